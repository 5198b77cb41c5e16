/**
 * What only the SQLite store does (its role behaviour is in sqlite-conformance.test.ts):
 * numbered migrations, read-only opens, on each driver this Node can load.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/driver.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteStore, StoreOpenError } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/tmp.js';
import { T0, queued } from './conformance/harness.js';
import { forEachSqliteDriver } from './sqlite-drivers.js';

const STORE_MODULE = new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url).href;

forEachSqliteDriver((driver) => {
  describe(`sqlite store (${driver}): migrations`, () => {
    it('two processes opening a new database at once apply each migration exactly once', async () => {
      const path = join(tempDir('ct-store-'), 'caretaker.db');
      const script = `import(${JSON.stringify(STORE_MODULE)}).then(m => { const s = new m.SqliteStore(process.argv[1], { driver: ${JSON.stringify(driver)} }); return s.close(); })`;
      const open = () =>
        new Promise<number>((r) =>
          spawn(process.execPath, ['-e', script, path], { stdio: 'inherit' }).on('exit', (c) => r(c ?? 1)),
        );
      expect(await Promise.all([open(), open(), open()])).toEqual([0, 0, 0]);
      const store = new SqliteStore(path, { driver });
      expect(store.database.pragmaValue('user_version')).toBe(MIGRATIONS.length);
      expect(
        store.database.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name = 'runs'`).get(),
      ).toEqual({
        n: 1,
      });
      await store.close();
    });

    it('upgrades a database written by an earlier version in place, keeping its history', async () => {
      const path = join(tempDir('ct-store-'), 'caretaker.db');
      const old = openSqlite(path, { driver });
      old.exec(MIGRATIONS[0]!);
      old.pragma('user_version = 1');
      old
        .prepare(
          `INSERT INTO runs (task, host, trigger, queued_at, status) VALUES ('job', 'h1', 'manual', 1, 'success')`,
        )
        .run();
      old.close();
      const store = new SqliteStore(path, { driver });
      expect(store.database.pragmaValue('user_version')).toBe(MIGRATIONS.length);
      expect(await store.listRuns({ limit: 10 })).toMatchObject([
        { task: 'job', status: 'success', childPgid: null },
      ]);
      await store.close();
    });

    it('starts the lifetime totals of an upgraded database from the runs it kept', async () => {
      const path = join(tempDir('ct-store-'), 'caretaker.db');
      const old = openSqlite(path, { driver });
      for (let i = 0; i < 6; i++) old.exec(MIGRATIONS[i]!);
      old.pragma('user_version = 6');
      const add = old.prepare(
        `INSERT INTO runs (task, host, trigger, queued_at, finished_at, status, duration_ms, dry_run) VALUES (?, 'h1', ?, 1, 2, ?, ?, ?)`,
      );
      add.run('job', 'schedule', 'success', 40, 0);
      add.run('job', 'schedule', 'success', 7_000, 0);
      add.run('job', 'manual', 'failed', 200, 0);
      add.run('job', 'schedule', 'success', 5, 1); // a dry run: not counted
      add.run('job', 'rollback', 'success', 5, 0); // a record: not counted
      old.close();
      const store = new SqliteStore(path, { driver });
      expect(await store.runTotals()).toEqual([
        {
          task: 'job',
          host: 'h1',
          status: 'failed',
          runs: 1,
          missed: 0,
          totalMs: 200,
          durations: { '1': 1 },
        },
        {
          task: 'job',
          host: 'h1',
          status: 'success',
          runs: 2,
          missed: 0,
          totalMs: 7_040,
          durations: { '0': 1, '4': 1 },
        },
      ]);
      await store.close();
    });

    it('counts finished runs per task for the prune from an index, not from every row', async () => {
      const store = new SqliteStore(join(tempDir('ct-store-'), 'caretaker.db'), { driver });
      // The statement RunsRepo.prune runs first (overCount): with only runs_by_task (task, id) it
      // looked up each row's status in the table, all 200,000 rows of a long history.
      const plan = store.database
        .prepare(
          `EXPLAIN QUERY PLAN SELECT task, count(*) AS n FROM runs WHERE status NOT IN ('queued', 'running') GROUP BY task HAVING n > ?`,
        )
        .all(5) as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' | ')).toMatch(/COVERING INDEX runs_by_task_status/);
      await store.close();
    });

    it('refuses a database written by a newer caretaker, saying so, with exit code 2', async () => {
      const path = join(tempDir('ct-store-'), 'caretaker.db');
      const store = new SqliteStore(path, { driver });
      store.database.pragma(`user_version = ${MIGRATIONS.length + 5}`);
      await store.close();
      let caught: unknown;
      try {
        new SqliteStore(path, { driver });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(StoreOpenError);
      expect((caught as StoreOpenError).message).toMatch(/written by a newer caretaker/);
      expect((caught as StoreOpenError).exitCode).toBe(2);
    });
  });

  describe(`sqlite store (${driver}): read-only`, () => {
    it('reads a missing database as an empty history and creates nothing', async () => {
      const dir = tempDir('ct-store-');
      const path = join(dir, 'state', 'caretaker.db');
      const store = new SqliteStore(path, { readonly: true, driver });
      expect(await store.listRuns({ limit: 10 })).toEqual([]);
      expect(await store.dailyStats(0)).toEqual([]);
      await store.close();
      expect(existsSync(join(dir, 'state'))).toBe(false);
    });

    it('refuses writes and leaves the file as it was', async () => {
      const path = join(tempDir('ct-store-'), 'caretaker.db');
      const writer = new SqliteStore(path, { driver });
      await writer.insertRun(queued());
      await writer.close();
      const before = readFileSync(path);
      const reader = new SqliteStore(path, { readonly: true, driver });
      expect(await reader.listRuns({ limit: 10 })).toHaveLength(1);
      await expect(reader.insertRun(queued())).rejects.toThrow(/readonly|read-only/i);
      await reader.close();
      expect(readFileSync(path).equals(before)).toBe(true);
    });

    it('serves the history of a database of an older schema without migrating it', async () => {
      const path = join(tempDir('ct-store-'), 'caretaker.db');
      const old = openSqlite(path, { driver });
      old.exec(MIGRATIONS[0]!);
      old.pragma('user_version = 1');
      old
        .prepare(
          `INSERT INTO runs (task, host, trigger, queued_at, status, finished_at) VALUES ('job', 'h1', 'manual', ?, 'success', ?)`,
        )
        .run(T0, T0);
      old.close();
      const size = statSync(path).size;
      const reader = new SqliteStore(path, { readonly: true, driver });
      expect(await reader.listRuns({ limit: 10 })).toMatchObject([{ task: 'job', childPgid: null }]);
      expect(await reader.getRun(1)).toMatchObject({ task: 'job', finishedAt: T0 });
      await reader.close();
      const check = openSqlite(path, { readonly: true, driver });
      expect(check.pragmaValue('user_version')).toBe(1);
      check.close();
      expect(statSync(path).size).toBe(size);
    });
  });
});
