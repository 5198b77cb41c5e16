/**
 * Opening the SQLite history: the state dir, the pragmas of a writer, numbered migrations, and
 * read-only opens that work for a user who cannot write the state dir. Also the one place that
 * turns a failed write for lack of space into StoreFullError.
 */
import { existsSync, statSync } from 'node:fs';
import { makeDirSync, mkdirFailure } from '../../os/make-dir.js';
import { dirname } from 'node:path';
import { StoreFullError } from '../store-full-error.js';
import { StoreOpenError } from '../store-open-error.js';
import { openSqlite, sqliteErrorCode, type SqliteDatabase, type SqliteDriverName } from './driver.js';
import { MIGRATIONS } from './migrations.js';

export function firstLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split('\n')[0]!;
}

/** Disk full or failing → StoreFullError; anything else unchanged. */
export function guardWrite<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = sqliteErrorCode(err);
    if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR') {
      throw new StoreFullError(
        `cannot write the history database ${path}: ${firstLine(err)}${code === 'SQLITE_FULL' ? ' (its disk is full)' : ''}; nothing of this write was kept`,
        code,
        { cause: err },
      );
    }
    throw err;
  }
}

function stateDirError(path: string, err: unknown): StoreOpenError {
  const why = mkdirFailure(err);
  return new StoreOpenError(`cannot create the state directory ${dirname(path)}: ${why}`);
}

function createStateDir(path: string): void {
  try {
    makeDirSync(dirname(path));
  } catch (err) {
    throw stateDirError(path, err);
  }
}

/**
 * Read-only with no database: an empty history, unless the state dir could never hold one (it,
 * or a parent, is a file), which is the config's mistake to report like a writer would.
 */
function checkStateDir(path: string): void {
  try {
    if (!statSync(dirname(path)).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw stateDirError(path, err);
  }
}

/**
 * A read-only connection to a WAL database needs its `-shm` file, which SQLite creates when
 * missing — impossible for a user who cannot write the state dir once the last writer closed
 * (it removes `-wal` and `-shm`). With no `-wal` content everything is in the main file, so it
 * is read as immutable then (no locks, no `-shm`). While a writer is open, both files exist
 * and the ordinary read-only open works.
 */
function openReadonly(path: string, driver: SqliteDriverName | undefined): SqliteDatabase {
  const db = openSqlite(path, { readonly: true, driver });
  try {
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    return db;
  } catch (err) {
    db.close();
    const code = sqliteErrorCode(err);
    if (code !== 'SQLITE_READONLY' && code !== 'SQLITE_CANTOPEN') throw err;
    const wal = `${path}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) {
      throw new Error(
        `${firstLine(err)}: its write-ahead log holds changes and ${dirname(path)} is not writable by this user, so SQLite cannot read them; run this command as the state dir's owner`,
        { cause: err },
      );
    }
    return openSqlite(path, { immutable: true, driver });
  }
}

function migrate(db: SqliteDatabase): void {
  const current = () => Number(db.pragmaValue('user_version'));
  if (current() > MIGRATIONS.length) {
    throw new Error(
      `it was written by a newer caretaker (schema ${current()}, this one knows ${MIGRATIONS.length})`,
    );
  }
  for (let v = current(); v < MIGRATIONS.length; v++) {
    // IMMEDIATE takes the write lock first, so two processes opening a new database at once
    // apply each migration exactly once: the second sees the new version and skips it.
    db.transaction(() => {
      if (current() !== v) return;
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }, 'immediate');
  }
}

export interface HistoryOpenOptions {
  readonly readonly: boolean;
  readonly deferCheckpoints?: boolean;
  readonly driver?: SqliteDriverName;
}

/** Page cache per connection, in KiB. */
const PAGE_CACHE_KIB = 2000;

/** Opens (creating and migrating, unless read-only) the history database; StoreOpenError if not. */
export function openHistory(path: string, opts: HistoryOpenOptions): SqliteDatabase {
  const { readonly, driver } = opts;
  if (!readonly) createStateDir(path);
  else if (!existsSync(path)) checkStateDir(path);
  let db: SqliteDatabase | undefined;
  try {
    if (readonly && !existsSync(path)) {
      db = openSqlite(':memory:', { driver });
      migrate(db);
    } else if (readonly) {
      db = openReadonly(path, driver);
    } else {
      db = openSqlite(path, { driver });
      // SQLite's own default page cache (2 MB). better-sqlite3 builds with 16 MB, which a
      // daemon's start-up queries over a full history fill and then hold, idle, as private memory.
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a power loss may drop the last transactions but never corrupts.
      db.pragma('synchronous = NORMAL');
      db.pragma('journal_size_limit = 67108864');
      if (opts.deferCheckpoints) db.pragma('wal_autocheckpoint = 0');
      migrate(db);
    }
    return db;
  } catch (err) {
    db?.close();
    throw new StoreOpenError(`cannot open the history database ${path}: ${firstLine(err)}`, {
      cause: err,
    });
  }
}
