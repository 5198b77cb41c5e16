/**
 * A consistent copy of a live SQLite database: what one reader sees at one instant, never a
 * torn file (SQLite's online backup API, or VACUUM INTO where node:sqlite has no backup; see
 * backupTo in store/sqlite/driver.ts). Copying the file with `cp` or tar while the application
 * writes can produce a corrupt database; this cannot.
 */
import { openSqlite, type SqliteDatabase } from '../store/sqlite/driver.js';

export class SqliteCopyError extends Error {
  override name = 'SqliteCopyError';
}

export async function copySqlite(source: string, target: string): Promise<{ pages: number }> {
  let db: SqliteDatabase;
  try {
    db = openSqlite(source, { readonly: true, timeoutMs: 10_000 });
  } catch (err) {
    throw new SqliteCopyError(`cannot open SQLite database ${source}: ${(err as Error).message}`);
  }
  try {
    return await db.backupTo(target);
  } catch (err) {
    throw new SqliteCopyError(`online backup of ${source} failed: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/** The companion files SQLite keeps next to a database; never archived on their own. */
export function sqliteCompanions(dbPath: string): string[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}-journal`];
}
