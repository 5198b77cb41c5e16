/**
 * One transaction discipline for both drivers (better-sqlite3's own `transaction()` has
 * slightly different rules than a hand-written BEGIN/COMMIT on node:sqlite).
 */
import type { TransactionMode } from './sqlite-database.js';

export interface TransactionHost {
  readonly inTransaction: boolean;
  /** Runs one statement without parameters (cached by the driver). */
  runSql(sql: string): void;
}

const BEGIN: Readonly<Record<TransactionMode, string>> = {
  deferred: 'BEGIN DEFERRED',
  immediate: 'BEGIN IMMEDIATE',
  exclusive: 'BEGIN EXCLUSIVE',
};

function settled<T>(value: T): T {
  if (value !== null && typeof (value as { then?: unknown } | undefined)?.then === 'function')
    throw new TypeError('a SQLite transaction function must be synchronous');
  return value;
}

export function runTransaction<T>(db: TransactionHost, fn: () => T, mode: TransactionMode): T {
  if (db.inTransaction) {
    db.runSql('SAVEPOINT caretaker_nested');
    try {
      const value = settled(fn());
      db.runSql('RELEASE caretaker_nested');
      return value;
    } catch (err) {
      if (db.inTransaction) {
        db.runSql('ROLLBACK TO caretaker_nested');
        db.runSql('RELEASE caretaker_nested');
      }
      throw err;
    }
  }
  db.runSql(BEGIN[mode]);
  try {
    const value = settled(fn());
    db.runSql('COMMIT');
    return value;
  } catch (err) {
    // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY on
    // COMMIT may or may not): roll back whatever is still open, so the connection is clean.
    if (db.inTransaction) {
      try {
        db.runSql('ROLLBACK');
      } catch {
        // already rolled back by SQLite
      }
    }
    throw err;
  }
}
