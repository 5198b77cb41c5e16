/**
 * The file side of `caretaker import crontab`: stdin, one file, or a directory such as
 * /etc/cron.d read as cron reads it — every regular file whose name cron accepts (letters,
 * digits, `_` and `-`, as run-parts names; so no editor backups, no `.dpkg-dist`), in name order.
 * Anything that is not a regular file (a FIFO, /dev/zero) is skipped with a warning before a byte
 * is read: reading one would never end.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../../errors/usage-error.js';
import {
  detectFormat,
  guessFormat,
  importCrontab,
  renderImportedTasks,
  type CrontabFormat,
  type CrontabImport,
  type ImportedTask,
} from './crontab.js';
import { notRegularKind } from './file-kind.js';
import { keepValid } from './keep-valid.js';
import { IdAllocator } from './task-ids.js';

/** cron's rule for the files of a cron.d directory (Debian cron; cronie skips the same backups). */
const CRON_D_NAME = /^[A-Za-z0-9_-]+$/;

/** Is `name` a program in PATH (or the sbin dirs cron's PATH has)? */
export function onPath(name: string, path = process.env.PATH ?? ''): boolean {
  if (!/^[\w.-]+$/.test(name)) return false;
  const dirs = new Set([...path.split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const d of dirs) {
    try {
      if (statSync(join(d, name)).isFile()) return true;
    } catch {
      // not in this one
    }
  }
  return false;
}

/** The user names of this host, plus root; what fails to read leaves root alone. */
export function hostUsers(passwd = '/etc/passwd'): Set<string> {
  const users = new Set(['root']);
  try {
    if (!statSync(passwd).isFile()) return users;
    for (const line of readFileSync(passwd, 'utf8').split('\n')) {
      const name = line.split(':')[0]!.trim();
      if (name && !name.startsWith('#') && !name.startsWith('+') && !name.startsWith('-')) users.add(name);
    }
  } catch {
    // no /etc/passwd (a container, another OS): root is still a user everywhere cron runs
  }
  return users;
}

export interface CrontabInput {
  readonly text: string;
  readonly source: string;
  readonly inDir: boolean;
}

function inputsOf(file: string | undefined, warnings: string[]): { inputs: CrontabInput[]; source: string } {
  if (file === undefined || file === '-')
    return { inputs: [{ text: readFileSync(0, 'utf8'), source: 'stdin', inDir: false }], source: 'stdin' };
  const abs = resolve(file);
  let st;
  try {
    st = statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`,
    );
  }
  if (st.isDirectory()) {
    const inputs: CrontabInput[] = [];
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      if (!CRON_D_NAME.test(name)) {
        if (!name.startsWith('.'))
          warnings.push(
            `${p}: skipped, as cron skips it (a cron.d file name has only letters, digits, _ and -)`,
          );
        continue;
      }
      let s;
      try {
        s = statSync(p);
      } catch (err) {
        warnings.push(`${p}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}) — skipped`);
        continue;
      }
      if (s.isDirectory()) continue;
      if (!s.isFile()) {
        warnings.push(`${p}: ${notRegularKind(s) ?? 'not a file'}, not a regular file — skipped`);
        continue;
      }
      inputs.push({ text: readFileSync(p, 'utf8'), source: p, inDir: true });
    }
    if (inputs.length === 0) warnings.push(`${abs}: no crontab files in this directory`);
    return { inputs, source: abs };
  }
  if (!st.isFile()) {
    warnings.push(`${abs}: ${notRegularKind(st) ?? 'not a file'}, not a regular file — skipped`);
    return { inputs: [], source: abs };
  }
  return { inputs: [{ text: readFileSync(abs, 'utf8'), source: abs, inDir: false }], source: abs };
}

export interface CrontabImportRun {
  /** The format used: what was asked, else what the (first) file showed. */
  readonly format: CrontabFormat;
  readonly source: string;
  readonly result: CrontabImport;
  readonly yaml: string;
}

/**
 * Imports stdin (`-` or nothing), a file or a directory. Without a format, /etc/crontab and the
 * files of a cron.d directory are system crontabs, and any other is told by its lines
 * (`detectFormat`). Every task printed passes `caretaker validate`; one that would not is left
 * out with a warning.
 */
export function importCrontabPath(
  file: string | undefined,
  o: { format?: CrontabFormat; users?: ReadonlySet<string>; isCommand?: (name: string) => boolean } = {},
): CrontabImportRun {
  const warnings: string[] = [];
  const { inputs, source } = inputsOf(file, warnings);
  return importCrontabTexts(inputs, source, o, warnings);
}

/** The crontab texts of one import, as `importCrontabPath` read them. */
export function importCrontabTexts(
  inputs: readonly CrontabInput[],
  source: string,
  o: { format?: CrontabFormat; users?: ReadonlySet<string>; isCommand?: (name: string) => boolean },
  warnings: string[] = [],
): CrontabImportRun {
  const ids = new IdAllocator();
  const users = o.users ?? hostUsers();
  const tasks: ImportedTask[] = [];
  let format: CrontabFormat | undefined = o.format;
  for (const input of inputs) {
    const f =
      o.format ??
      (input.inDir || guessFormat(input.source) === 'system'
        ? 'system'
        : detectFormat(input.text, input.source, users, o.isCommand ?? onPath));
    format ??= f;
    const r = importCrontab(input.text, { source: input.source, format: f, users, ids });
    if (!o.format && !input.inDir && guessFormat(input.source) !== 'system' && f === 'system') {
      const names = [...new Set(r.tasks.map((t) => t.user))].slice(0, 3).join(', ');
      warnings.push(
        `${input.source}: read as a system crontab: every job names a user (${names}) before its command; pass --user if that is the command`,
      );
    }
    tasks.push(...r.tasks);
    warnings.push(...r.warnings);
  }
  const render = (ts: readonly ImportedTask[]) =>
    renderImportedTasks({ tasks: [...ts], warnings: [] }, source);
  const kept = keepValid(tasks, render, (t) => `${t.source}:${t.line}`, warnings);
  const result: CrontabImport = { tasks: kept, warnings };
  return { format: format ?? 'user', source, result, yaml: renderImportedTasks(result, source) };
}
