/** The SQLite seam (store/sqlite/driver.ts): the same behaviour on each driver this Node loads. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { openSqlite, sqliteErrorCode, type SqliteDriverName } from '../../src/store/sqlite/driver.js';
import { openNodeSqlite, type NodeSqliteModule } from '../../src/store/sqlite/node-sqlite-driver.js';
import { tempDir } from '../support/tmp.js';
import { forEachSqliteDriver } from './sqlite-drivers.js';

const DRIVER_MODULE = new URL('../../dist/store/sqlite/driver.js', import.meta.url).href;

function table(driver: SqliteDriverName, wal = true) {
  const path = join(tempDir('ct-driver-'), 't.db');
  const db = openSqlite(path, { driver });
  if (wal) db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)');
  return { db, path };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected it to throw');
}

const count = (db: ReturnType<typeof openSqlite>) =>
  (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

forEachSqliteDriver((driver) => {
  describe(`sqlite driver seam (${driver})`, () => {
    it('names its driver and runs statements with positional and named parameters', () => {
      const { db } = table(driver);
      expect(db.driver).toBe(driver);
      const ins = db.prepare('INSERT INTO t (v) VALUES (@v)');
      // A key the statement does not use is ignored, as better-sqlite3 always did.
      expect(ins.run({ v: 'a', unused: 1 })).toMatchObject({ changes: 1, lastInsertRowid: 1 });
      db.prepare('INSERT INTO t (v) VALUES (?)').run('b');
      expect(db.prepare('SELECT v FROM t WHERE id = ?').get(2)).toEqual({ v: 'b' });
      expect(db.prepare('SELECT v FROM t ORDER BY id').all()).toEqual([{ v: 'a' }, { v: 'b' }]);
      expect([...db.prepare('SELECT id FROM t ORDER BY id').iterate()]).toEqual([{ id: 1 }, { id: 2 }]);
      expect(db.prepare('SELECT v FROM t WHERE id = 99').get()).toBeUndefined();
      expect(db.pragmaValue('journal_mode')).toBe('wal');
      expect(db.pragma('table_info(t)').map((c) => c.name)).toEqual(['id', 'v']);
      db.close();
      expect(db.isOpen).toBe(false);
    });

    it('reads 64-bit integers exactly when asked', () => {
      const { db } = table(driver);
      db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').run(2n ** 62n + 1n, 'big');
      expect(db.prepare('SELECT id FROM t').readBigInts(true).get()).toEqual({ id: 2n ** 62n + 1n });
      db.close();
    });

    it('commits a transaction, rolls back one that throws, and nests with savepoints', () => {
      const { db } = table(driver);
      const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
      expect(db.transaction(() => (ins.run('a'), 'done'), 'immediate')).toBe('done');
      expect(() =>
        db.transaction(() => {
          ins.run('b');
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(count(db)).toBe(1);
      db.transaction(() => {
        ins.run('c');
        expect(db.inTransaction).toBe(true);
        expect(() =>
          db.transaction(() => {
            ins.run('d');
            ins.run('a'); // UNIQUE: the inner part rolls back alone
          }),
        ).toThrow();
      });
      expect(db.prepare('SELECT v FROM t ORDER BY id').all()).toEqual([{ v: 'a' }, { v: 'c' }]);
      expect(db.inTransaction).toBe(false);
      expect(() => db.transaction(() => Promise.resolve(1))).toThrow(/synchronous/);
      expect(db.inTransaction).toBe(false);
      expect(count(db)).toBe(2);
      db.close();
    });

    it('gives the same primary error codes from either driver', () => {
      const { db, path } = table(driver);
      db.prepare('INSERT INTO t (v) VALUES (?)').run('a');
      const constraint = thrown(() => db.prepare('INSERT INTO t (v) VALUES (?)').run('a'));
      expect(sqliteErrorCode(constraint)).toBe('SQLITE_CONSTRAINT');
      const other = openSqlite(path, { driver, timeoutMs: 0 });
      db.exec('BEGIN EXCLUSIVE');
      expect(sqliteErrorCode(thrown(() => other.exec('BEGIN EXCLUSIVE')))).toBe('SQLITE_BUSY');
      db.exec('ROLLBACK');
      other.close();
      db.close();
      expect(sqliteErrorCode(new Error('not sqlite'))).toBeUndefined();
    });

    it('refuses to create a file that must exist, and opens read-only without write access', () => {
      const dir = tempDir('ct-driver-');
      expect(() => openSqlite(join(dir, 'none.db'), { driver, fileMustExist: true })).toThrow(
        /does not exist/,
      );
      expect(existsSync(join(dir, 'none.db'))).toBe(false);
      const { db, path } = table(driver, false);
      db.close();
      const ro = openSqlite(path, { driver, readonly: true });
      expect(count(ro)).toBe(0);
      expect(sqliteErrorCode(thrown(() => ro.exec(`INSERT INTO t (v) VALUES ('x')`)))).toBe(
        'SQLITE_READONLY',
      );
      ro.close();
    });

    it('reads a WAL database at rest as immutable, creating no -shm or -wal', () => {
      const { db, path } = table(driver);
      db.prepare('INSERT INTO t (v) VALUES (?)').run('kept');
      db.close();
      expect(readdirSync(join(path, '..'))).toEqual(['t.db']);
      const im = openSqlite(path, { driver, immutable: true });
      expect(im.prepare('SELECT v FROM t').all()).toEqual([{ v: 'kept' }]);
      expect(readdirSync(join(path, '..'))).toEqual(['t.db']);
      im.close();
    });

    it('backs up what one reader sees, while another connection keeps writing', async () => {
      const { db, path } = table(driver);
      const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 5000; i++) ins.run(`row ${i} ${'x'.repeat(100)}`);
      });
      const reader = openSqlite(path, { driver, readonly: true });
      const target = join(path, '..', 'copy.db');
      const copying = reader.backupTo(target);
      ins.run('written during the copy');
      const { pages } = await copying;
      reader.close();
      expect(pages).toBeGreaterThan(10);
      const copy = openSqlite(target, { driver, readonly: true });
      expect(copy.pragmaValue('integrity_check')).toBe('ok');
      expect([5000, 5001]).toContain(count(copy));
      copy.close();
      db.close();
    });

    if (driver === 'node:sqlite') {
      it('backs up with VACUUM INTO where node:sqlite has no backup() (before Node 22.16)', async () => {
        const { db, path } = table(driver);
        db.prepare('INSERT INTO t (v) VALUES (?)').run('kept');
        // The module as Node 22.5 to 22.15 have it: DatabaseSync, no backup().
        const { DatabaseSync } = createRequire(import.meta.url)('node:sqlite') as NodeSqliteModule;
        const old = openNodeSqlite({ DatabaseSync }, path, { readonly: true });
        const target = join(path, '..', 'vacuumed.db');
        const { pages } = await old.backupTo(target);
        old.close();
        const copy = openSqlite(target, { driver, readonly: true });
        expect(copy.prepare('SELECT v FROM t').all()).toEqual([{ v: 'kept' }]);
        expect(pages).toBe(copy.pragmaValue('page_count'));
        copy.close();
        db.close();
      });
    }
  });
});

describe('loading the SQLite driver', () => {
  it('prints no ExperimentalWarning for SQLite, and lets every other warning through', () => {
    const script = `import(${JSON.stringify(DRIVER_MODULE)}).then((m) => {
      const db = m.openSqlite(':memory:');
      db.prepare('SELECT 1').get();
      process.stdout.write(m.sqliteDriverName());
      process.emitWarning('a different experiment', 'ExperimentalWarning');
    })`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      Number(process.versions.node.split('.')[0]) >= 22 ? 'node:sqlite' : 'better-sqlite3',
    );
    expect(r.stderr).not.toMatch(/SQLite is an experimental feature/);
    expect(r.stderr).toMatch(/ExperimentalWarning: a different experiment/);
  });
});
