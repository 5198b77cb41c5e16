/**
 * One scheduler per state dir. The lock is an exclusive SQLite lock on `state_dir/daemon.lock`:
 * the kernel drops it when the holder dies, even by SIGKILL, so there is no stale lock to clean
 * up and no race between two starting daemons. Who holds it is written to `daemon.json`.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';

export interface HolderInfo {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: number;
  readonly version: string;
  readonly config: string;
  /** The control socket of a daemon (absent for an embedded scheduler). */
  readonly socket?: string;
  readonly http?: string;
}

export class StateLockedError extends Error {
  override name = 'StateLockedError';
  readonly exitCode = 2;
}

export function holderFile(stateDir: string): string {
  return resolve(stateDir, 'daemon.json');
}

export function readHolder(stateDir: string): HolderInfo | undefined {
  try {
    return JSON.parse(readFileSync(holderFile(stateDir), 'utf8')) as HolderInfo;
  } catch {
    return undefined;
  }
}

export class StateLock {
  #db: Database.Database | null = null;

  constructor(readonly stateDir: string) {}

  /** Takes the lock or throws StateLockedError naming the holder. */
  acquire(info: HolderInfo): void {
    mkdirSync(this.stateDir, { recursive: true });
    const db = new Database(resolve(this.stateDir, 'daemon.lock'));
    try {
      // A short wait lets a concurrent probe (isLocked) finish; a real holder never lets go.
      db.pragma('busy_timeout = 1000');
      db.pragma('locking_mode = EXCLUSIVE');
      // The first write takes the EXCLUSIVE lock; locking_mode keeps it until close.
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;');
      db.prepare('INSERT INTO holder (pid) VALUES (?)').run(info.pid);
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
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
  let db: Database.Database | undefined;
  try {
    db = new Database(resolve(stateDir, 'daemon.lock'), { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'SQLITE_BUSY';
  } finally {
    db?.close();
  }
}
