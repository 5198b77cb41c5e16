import { validateConfig } from '../../caretaker-tools.js';
import { ConfigError } from '../../errors/config-error.js';
import { configPath, printJson, type GlobalOptions, type Io } from '../context.js';
import { relative } from '../format.js';
import { plural } from '../../core/plural.js';

/**
 * Loads and checks the config (exit 2 with every error, each with file:line:col). Then, as
 * validate-config does for other files: the environment variables the config names (presence and
 * length only) and what changed since a running scheduler loaded the file. Those are reported,
 * never fatal: the file itself is valid.
 */
export async function validateCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const file = configPath(opts);
  try {
    const report = await validateConfig(file);
    if (opts.json) {
      printJson(io, { valid: true, ...report });
      return 0;
    }
    io.out(`${report.file} is valid: ${plural(report.tasks, 'task')}, ${report.scheduled} scheduled`);
    for (const e of report.env) {
      if (!e.present) io.out(`warning: environment variable ${e.name} (${e.key}) is not set`);
      else io.out(`environment variable ${e.name} (${e.key}) is set, ${plural(e.length, 'character')}`);
    }
    const since = report.changedSinceLoaded;
    if (since) {
      const when = relative(since.loadedAt, Date.now());
      if (since.count === 0) io.out(`no changes since a scheduler last loaded this file (${when})`);
      else {
        io.out(
          `${plural(since.count, 'key')} changed since a scheduler last loaded this file (${when}); \`caretaker reload\` applies them:`,
        );
        for (const line of since.lines) io.out(`  ${line}`);
      }
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError) || !opts.json) throw err;
    printJson(io, { valid: false, file, errors: err.issues });
    return 2;
  }
}
