import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { importCrontab, importLogrotate } from '../../caretaker-tools.js';
import { UsageError } from '../../errors/usage-error.js';
import { printJson, type GlobalOptions, type Io } from '../context.js';

export async function importCrontabCommand(
  file: string | undefined,
  opts: GlobalOptions & { system?: boolean; user?: boolean },
  io: Io,
): Promise<number> {
  if (opts.system && opts.user) throw new UsageError('--system and --user exclude each other');
  const { format, source, result, yaml } = await importCrontab(file, {
    format: opts.system ? 'system' : opts.user ? 'user' : undefined,
  });
  if (opts.json) {
    printJson(io, { source, format, ...result });
    return 0;
  }
  io.out(yaml);
  for (const w of result.warnings) io.err(`warning: ${w}`);
  return 0;
}

export async function importLogrotateCommand(
  files: readonly string[],
  opts: GlobalOptions,
  io: Io,
): Promise<number> {
  if (files.length === 0) throw new UsageError('give one or more logrotate files or directories');
  const sources = files.map((f) => resolve(f));
  for (const [i, f] of sources.entries()) {
    try {
      statSync(f);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(
        `cannot read ${files[i]}: ${code === 'ENOENT' ? 'no such file or directory' : code}`,
      );
    }
  }
  let imported;
  try {
    imported = await importLogrotate(sources);
  } catch (err) {
    throw new UsageError(`cannot read the logrotate configuration: ${(err as Error).message}`);
  }
  if (opts.json) {
    printJson(io, { sources, ...imported.result });
    return 0;
  }
  io.out(imported.yaml);
  for (const w of imported.result.warnings) io.err(`warning: ${w}`);
  return 0;
}
