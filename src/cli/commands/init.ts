import { existsSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { builtinActionNames } from '../../caretaker-tools.js';
import { UsageError } from '../../errors/usage-error.js';
import { configPath, printJson, type GlobalOptions, type Io } from '../context.js';
import { PRESETS, renderInitConfig, type Preset } from '../init-template.js';
import { plural } from '../../core/plural.js';

export async function initCommand(
  opts: GlobalOptions & { preset?: string; force?: boolean },
  io: Io,
): Promise<number> {
  const preset = (opts.preset ?? 'standard') as Preset;
  if (!PRESETS.includes(preset)) {
    throw new UsageError(`unknown preset "${opts.preset}"; expected one of ${PRESETS.join(', ')}`);
  }
  const file = configPath(opts);
  if (existsSync(file) && !opts.force) {
    throw new UsageError(
      `${relative(process.cwd(), file) || file} already exists; pass --force to overwrite it`,
    );
  }
  const { text, active, commented } = renderInitConfig(preset, new Set(await builtinActionNames()));
  writeFileSync(file, text, { flag: opts.force ? 'w' : 'wx' });
  if (opts.json) printJson(io, { file, preset, activeTasks: active, commentedTasks: commented });
  else {
    io.out(
      `wrote ${file} (${plural(active, 'task')}${commented ? `, ${commented} more commented out until their actions are available` : ''})`,
    );
    io.out('next: caretaker validate, then caretaker start --daemon');
  }
  return 0;
}
