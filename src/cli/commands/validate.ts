import { loadConfigFile } from '../../config/load.js';
import { builtinRegistry } from '../../actions/builtin.js';
import { driftCount, driftLines } from '../../actions/config-files/config-drift.js';
import { driftSinceLoaded, envReferences } from '../../config/own-config-check.js';
import { ConfigError } from '../../errors/config-error.js';
import { configPath, printJson, type GlobalOptions, type Io } from '../context.js';
import { relative } from '../format.js';

/**
 * Loads and checks the config (exit 2 with every error, each with file:line:col). Then, as
 * validate-config does for other files: the environment variables the config names (presence and
 * length only) and what changed since a running scheduler loaded the file. Those are reported,
 * never fatal: the file itself is valid.
 */
export async function validateCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const file = configPath(opts);
  try {
    const config = loadConfigFile(file, { registry: builtinRegistry() });
    const scheduled = config.tasks.filter((t) => t.schedule && t.enabled).length;
    const env = await envReferences(file);
    const since = await driftSinceLoaded(file, config.stateDir);
    if (opts.json) {
      printJson(io, {
        valid: true,
        file,
        tasks: config.tasks.length,
        scheduled,
        env,
        changedSinceLoaded: since && { loadedAt: since.loadedAt, ...since.drift },
      });
      return 0;
    }
    io.out(
      `${file} is valid: ${config.tasks.length} task${config.tasks.length === 1 ? '' : 's'}, ${scheduled} scheduled`,
    );
    for (const e of env) {
      if (!e.present) io.out(`warning: environment variable ${e.name} (${e.key}) is not set`);
      else io.out(`environment variable ${e.name} (${e.key}) is set, ${e.length} characters`);
    }
    if (since) {
      const n = driftCount(since.drift);
      const when = relative(since.loadedAt, Date.now());
      if (n === 0) io.out(`no changes since a scheduler last loaded this file (${when})`);
      else {
        io.out(
          `${n} key${n === 1 ? '' : 's'} changed since a scheduler last loaded this file (${when}); \`caretaker reload\` applies them:`,
        );
        for (const line of driftLines(since.drift)) io.out(`  ${line}`);
      }
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError) || !opts.json) throw err;
    printJson(io, { valid: false, file, errors: err.issues });
    return 2;
  }
}
