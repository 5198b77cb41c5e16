/**
 * Where a restore's PostgreSQL dump goes: `--postgres URL` beside `--to DIR`, or `--to URL` alone
 * (the files are then extracted into a private temp dir that is removed afterwards). Checked
 * before anything is downloaded or extracted, so a mistyped URL costs no download of a copy.
 */
import { UsageError } from '../errors/usage-error.js';
import { pgSource, PgToolError, requireTool, type PgSource } from './postgres.js';

export function looksLikePostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** The database to load the dump into, or undefined; a UsageError (exit 2) for a bad request. */
export function restoreDatabase(to: string, postgres: string | undefined): PgSource | undefined {
  const toUrl = looksLikePostgresUrl(to);
  // `postgress://…` or `pg://…` would otherwise be a relative directory named after the URL, and
  // the files restored there. Only the scheme is echoed: the rest may hold a password.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(to)?.[1];
  if (!toUrl && scheme !== undefined)
    throw new UsageError(
      `--to: expected a directory or a postgres:// URL, got a ${scheme}:// URL (nothing was downloaded or restored)`,
    );
  if (toUrl && postgres !== undefined)
    throw new UsageError('--to is a PostgreSQL URL and --postgres is given too: give the database once');
  const url = toUrl ? to : postgres;
  if (url === undefined) return undefined;
  const flag = toUrl ? '--to' : '--postgres';
  try {
    const pg = pgSource(url);
    requireTool('pg_restore');
    return pg;
  } catch (err) {
    if (err instanceof PgToolError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}
