/**
 * PostgreSQL dumps and restores with the PostgreSQL client tools found on PATH. A URL's password
 * never appears on a command line (other users could read it in `ps`), in output, logs or
 * history: it goes to the tool through PGPASSWORD and is masked everywhere else.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface PgSource {
  /** The URL without its password: safe for the command line. */
  readonly url: string;
  /** The URL as shown to people: the password replaced by `***`. */
  readonly shown: string;
  readonly password: string | undefined;
  /** The database name (the dump's file name). */
  readonly database: string;
}

export class PgToolError extends Error {
  override name = 'PgToolError';
}

/** Parses a postgres:// URL; the error message never repeats the URL (it may hold a password). */
export function pgSource(text: string): PgSource {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new PgToolError('not a valid postgres:// URL');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new PgToolError(`expected a postgres:// or postgresql:// URL, got a ${u.protocol}// URL`);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = '';
  const url = u.toString();
  const shown = password === undefined ? url : url.replace(/^(\w+:\/\/[^@/]*)@/, '$1:***@');
  const database =
    decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  return { url, shown, password, database };
}

/** Replaces every occurrence of the password in tool output. */
export function scrub(text: string, src: PgSource): string {
  return src.password ? text.split(src.password).join('***') : text;
}

export function pgEnv(src: PgSource): Record<string, string> {
  return src.password === undefined ? {} : { PGPASSWORD: src.password };
}

export function findOnPath(program: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function requireTool(program: 'pg_dump' | 'pg_restore'): string {
  const found = findOnPath(program);
  if (!found)
    throw new PgToolError(
      `${program} was not found on PATH; install the PostgreSQL client tools (Debian: apt-get install postgresql-client)`,
    );
  return found;
}

/** The result of running a tool: exit code (null when killed) and its output. */
export interface ToolRun {
  readonly exitCode: number | null;
  readonly output: string;
  readonly spawnError?: string;
}

export type ToolRunner = (command: readonly string[], env: Record<string, string>) => Promise<ToolRun>;

/**
 * What a PostgreSQL tool said, as one line: its first `error:` line (pg_restore follows one with
 * the SQL it ran, over several lines), with how many more there were; else its last line.
 */
export function toolSaid(program: string, output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => l.startsWith(`${program}: error: `));
  const first = (errors[0] ?? lines.at(-1) ?? '').replace(`${program}: error: `, '').replace(/\s+/g, ' ');
  return errors.length > 1 ? `${first} (and ${errors.length - 1} more errors)` : first;
}

function failure(program: string, src: PgSource, run: ToolRun, hint = ''): PgToolError {
  const why = run.spawnError ?? (run.exitCode === null ? 'was killed' : `exited with ${run.exitCode}`);
  const said = toolSaid(program, scrub(run.output, src));
  return new PgToolError(`${program} of ${src.shown} ${why}${said ? `: ${said}` : ''}${hint}`);
}

/**
 * `pg_dump --format=custom` into `file`. `compress: false` when the archive is gzipped anyway:
 * compressing twice costs CPU and saves nothing.
 */
export async function pgDump(src: PgSource, file: string, run: ToolRunner, compress: boolean): Promise<void> {
  const tool = requireTool('pg_dump');
  const args = [tool, '--format=custom', `--file=${file}`, '--no-password'];
  if (!compress) args.push('--compress=0');
  args.push(`--dbname=${src.url}`);
  const r = await run(args, pgEnv(src));
  if (r.exitCode !== 0) throw failure('pg_dump', src, r);
}

/**
 * `pg_restore` of a custom-format dump into the database at `src`, in one transaction (all or
 * nothing). `clean` drops the objects the dump contains first (restore --force).
 */
export async function pgRestore(src: PgSource, file: string, run: ToolRunner, clean: boolean): Promise<void> {
  const tool = requireTool('pg_restore');
  const args = [tool, '--single-transaction', '--exit-on-error', '--no-owner', '--no-password'];
  if (clean) args.push('--clean', '--if-exists');
  args.push(`--dbname=${src.url}`, file);
  const r = await run(args, pgEnv(src));
  if (r.exitCode === 0) return;
  // In one transaction: nothing of the dump was loaded.
  const exists = !clean && / already exists\b/.test(r.output);
  throw failure(
    'pg_restore',
    src,
    r,
    exists
      ? '; nothing was loaded: restore into an empty database, or add --force to drop and replace the objects the dump holds'
      : '',
  );
}

/** `pg_restore --list`: proves a dump is readable (used by restore drills). */
export async function pgListDump(file: string, run: ToolRunner): Promise<number> {
  const tool = requireTool('pg_restore');
  const r = await run([tool, '--list', file], {});
  if (r.exitCode !== 0)
    throw new PgToolError(
      `pg_restore --list ${file} failed: ${r.spawnError ?? toolSaid('pg_restore', r.output)}`,
    );
  return r.output.split('\n').filter((l) => l && !l.startsWith(';')).length;
}
