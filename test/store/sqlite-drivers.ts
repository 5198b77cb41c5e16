/**
 * Runs a block of tests once per SQLite driver that loads on this Node: better-sqlite3 on Node
 * 20, node:sqlite on Node 22 and later. A driver that cannot load here is skipped visibly, with
 * the reason printed and in the skipped suite's name, never silently passed.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SQLITE_DRIVERS,
  sqliteDriverName,
  sqliteDriverStatus,
  type SqliteDriverName,
} from '../../src/store/sqlite/driver.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/tmp.js';
import type { StoreFactory } from './conformance/harness.js';

export function forEachSqliteDriver(block: (driver: SqliteDriverName) => void): void {
  for (const driver of SQLITE_DRIVERS) {
    const status = sqliteDriverStatus(driver);
    if (status.available) {
      block(driver);
    } else {
      console.warn(`[skipped] SQLite driver ${driver} on Node ${process.versions.node}: ${status.reason}`);
      describe.skip(`sqlite (${driver}): skipped on Node ${process.versions.node}: ${status.reason}`, () => {
        it('runs where the driver loads', () => {});
      });
    }
  }
}

/** The driver this Node must have, so that a build without one fails instead of skipping all. */
export function describeDriverChoice(): void {
  describe('sqlite driver choice', () => {
    const major = Number(process.versions.node.split('.')[0]);
    const expected: SqliteDriverName = major >= 22 ? 'node:sqlite' : 'better-sqlite3';
    it(`uses ${expected} on Node ${process.versions.node}`, () => {
      expect(sqliteDriverName()).toBe(expected);
    });
  });
}

/** A fresh SqliteStore in its own temp dir, on one driver. */
export function sqliteFactory(driver: SqliteDriverName): StoreFactory<SqliteStore> {
  return async () => {
    const store = new SqliteStore(join(tempDir('ct-store-'), 'state', 'caretaker.db'), { driver });
    expect(store.driver).toBe(driver);
    return { store, cleanup: () => store.close() };
  };
}
