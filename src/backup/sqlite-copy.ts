/**
 * A consistent copy of a live SQLite database with SQLite's online backup API: what a reader
 * sees at one instant, never a torn file. Copying the file with `cp` or tar while the
 * application writes can produce a corrupt database; this cannot.
 */
import Database from 'better-sqlite3';

export class SqliteCopyError extends Error {
  override name = 'SqliteCopyError';
}

export async function copySqlite(source: string, target: string): Promise<{ pages: number }> {
  let db: Database.Database;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new SqliteCopyError(`cannot open SQLite database ${source}: ${(err as Error).message}`);
  }
  try {
    db.pragma('busy_timeout = 10000');
    // After the first step, copy the rest in one step: a database written continuously would
    // otherwise restart the copy at every change and might never finish (a write by another
    // connection between steps restarts it). One step holds a read transaction, which in WAL
    // mode does not block writers.
    const info = await db.backup(target, { progress: (p) => Math.max(100, p.remainingPages) });
    return { pages: info.totalPages };
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
