import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  guessFormat,
  importCrontab,
  renderImportedTasks,
  type CrontabFormat,
} from '../../config/import/crontab.js';
import { importLogrotate, renderLogrotateTasks } from '../../config/import/logrotate.js';
import { UsageError } from '../../errors/usage-error.js';
import { printJson, type GlobalOptions, type Io } from '../context.js';

function readInput(file: string | undefined): { text: string; source: string } {
  if (file === undefined || file === '-') return { text: readFileSync(0, 'utf8'), source: 'stdin' };
  try {
    return { text: readFileSync(file, 'utf8'), source: resolve(file) };
  } catch (err) {
    throw new UsageError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
}

export async function importCrontabCommand(
  file: string | undefined,
  opts: GlobalOptions & { system?: boolean; user?: boolean },
  io: Io,
): Promise<number> {
  if (opts.system && opts.user) throw new UsageError('--system and --user exclude each other');
  const { text, source } = readInput(file);
  const format: CrontabFormat = opts.system ? 'system' : opts.user ? 'user' : guessFormat(source);
  const result = importCrontab(text, { source, format });
  if (opts.json) {
    printJson(io, { source, format, ...result });
    return 0;
  }
  io.out(renderImportedTasks(result, source));
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
  let result;
  try {
    result = importLogrotate(sources);
  } catch (err) {
    throw new UsageError(`cannot read the logrotate configuration: ${(err as Error).message}`);
  }
  if (opts.json) {
    printJson(io, { sources, ...result });
    return 0;
  }
  io.out(renderLogrotateTasks(result, sources));
  for (const w of result.warnings) io.err(`warning: ${w}`);
  return 0;
}
