/**
 * A lock shared by every caretaker process on one state dir (the daemon, a CLI `rollback`):
 * an exclusive SQLite transaction on a small lock file. The kernel drops it when the holder dies,
 * even by SIGKILL, so a crash never leaves a stale lock behind. Waiting polls without blocking the
 * event loop; callers in the same process queue up in order instead of polling each other.
 */
import { dirname } from 'node:path';
import { makeDirSync } from '../os/make-dir.js';
import { openSqlite, sqliteErrorCode } from '../store/sqlite/driver.js';

export class LockTimeoutError extends Error {
  override name = 'LockTimeoutError';
}

export interface LockWait {
  readonly signal?: AbortSignal;
  /** Give up after this long (default 10 minutes). */
  readonly timeoutMs?: number;
  /** Names the lock in the timeout message. */
  readonly what: string;
}

export class ExclusiveLock {
  #tail: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Runs `fn` while holding the lock. */
  run<T>(fn: () => Promise<T>, wait: LockWait): Promise<T> {
    const next = this.#tail.then(
      () => this.#hold(fn, wait),
      () => this.#hold(fn, wait),
    );
    this.#tail = next.catch(() => {});
    return next;
  }

  async #hold<T>(fn: () => Promise<T>, wait: LockWait): Promise<T> {
    makeDirSync(dirname(this.path), { mode: 0o700 });
    const db = openSqlite(this.path, { timeoutMs: 0 });
    try {
      const deadline = Date.now() + (wait.timeoutMs ?? 600_000);
      let delay = 10;
      for (;;) {
        try {
          db.exec('BEGIN EXCLUSIVE');
          break;
        } catch (err) {
          if (sqliteErrorCode(err) !== 'SQLITE_BUSY') throw err;
          wait.signal?.throwIfAborted();
          if (Date.now() > deadline)
            throw new LockTimeoutError(
              `${wait.what} is locked by another caretaker process; try again later`,
            );
          // Real time on purpose: this waits for another process, not for a schedule.
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 250);
        }
      }
      try {
        return await fn();
      } finally {
        db.exec('ROLLBACK');
      }
    } finally {
      db.close();
    }
  }
}
