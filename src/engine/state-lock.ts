/**
 * One scheduler per state dir. The lock is an exclusive SQLite lock on `state_dir/daemon.lock`:
 * the kernel drops it when the holder dies, even by SIGKILL, so there is no stale lock to clean
 * up and no race between two starting daemons. Who holds it is written to `daemon.json`.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StateLockedError } from '../errors/state-locked-error.js';
import { StateDirError } from '../errors/state-dir-error.js';
import { makeDirSync, mkdirFailure } from '../os/make-dir.js';
import { openSqlite, sqliteErrorCode, type SqliteDatabase } from '../store/sqlite/driver.js';
import { holderFile, readHolder, type HolderInfo } from './daemon-holder.js';

export { StateLockedError } from '../errors/state-locked-error.js';
export { holderFile, readHolder, type HolderInfo } from './daemon-holder.js';

export class StateLock {
  #db: SqliteDatabase | null = null;

  constructor(readonly stateDir: string) {}

  /** Takes the lock or throws StateLockedError naming the holder. */
  acquire(info: HolderInfo): void {
    try {
      makeDirSync(this.stateDir);
    } catch (err) {
      throw new StateDirError(`cannot create the state directory ${this.stateDir}: ${mkdirFailure(err)}`);
    }
    // A short wait lets a concurrent probe (isLocked) finish; a real holder never lets go.
    const db = openSqlite(resolve(this.stateDir, 'daemon.lock'), { timeoutMs: 1000 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the EXCLUSIVE lock; locking_mode keeps it until close.
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;');
      db.prepare('INSERT INTO holder (pid) VALUES (?)').run(info.pid);
    } catch (err) {
      db.close();
      if (sqliteErrorCode(err) === 'SQLITE_BUSY') {
        const h = readHolder(this.stateDir);
        throw new StateLockedError(
          `another caretaker is already running on ${this.stateDir}${h ? ` (pid ${h.pid} on ${h.host}, since ${new Date(h.startedAt).toISOString()})` : ''}; stop it first with \`caretaker stop\``,
        );
      }
      throw err;
    }
    this.#db = db;
    const tmp = `${holderFile(this.stateDir)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(info, null, 2));
    renameSync(tmp, holderFile(this.stateDir));
  }

  update(info: HolderInfo): void {
    if (!this.#db) return;
    const tmp = `${holderFile(this.stateDir)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(info, null, 2));
    renameSync(tmp, holderFile(this.stateDir));
  }

  release(): void {
    if (!this.#db) return;
    rmSync(holderFile(this.stateDir), { force: true });
    this.#db.close();
    this.#db = null;
  }

  get held(): boolean {
    return this.#db !== null;
  }
}

/** Is some process holding the lock right now? (Probes without taking it for long.) */
export function isLocked(stateDir: string): boolean {
  let db: SqliteDatabase | undefined;
  try {
    db = openSqlite(resolve(stateDir, 'daemon.lock'), { fileMustExist: true, timeoutMs: 0 });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return false;
  } catch (err) {
    return sqliteErrorCode(err) === 'SQLITE_BUSY';
  } finally {
    db?.close();
  }
}
