/** db-maintain against the real PostgreSQL and real SQLite files. */
import { openSync, readSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/driver.js';
import { createDbMaintainAction, dbMaintainAction } from '../../src/actions/db-maintain.js';
import { optionsError, runAction } from '../support/run-action.js';
import { needPostgres, testDatabase, type TestDatabase } from '../support/services.js';
import { tempDir, waitUntil } from '../support/tmp.js';

const noPostgres = await needPostgres();

interface TableFigures {
  table: string;
  before: {
    dead: number;
    live: number;
    bytes: number;
    modSinceAnalyze: number;
    lastVacuum: string | null;
    lastAnalyze: string | null;
  };
  after: {
    dead: number;
    live: number;
    bytes: number;
    modSinceAnalyze: number;
    lastVacuum: string | null;
    lastAnalyze: string | null;
  };
  deadRemoved: number;
  bytesReclaimed: number;
  steps: { op: string; status: string }[];
}

const tablesOf = (details: unknown) => (details as { tables: TableFigures[] }).tables;

/** A table with `rows` rows of which those with id > keep are deleted: dead tuples, autovacuum off. */
async function bloated(db: TestDatabase, name: string, rows: number, deleteWhere: string): Promise<void> {
  const t = pg.escapeIdentifier(name);
  await db.client.query(
    `CREATE TABLE ${t} (id int PRIMARY KEY, body text) WITH (autovacuum_enabled = false)`,
  );
  await db.client.query(`INSERT INTO ${t} SELECT g, repeat('x', 200) FROM generate_series(1, $1::int) g`, [
    rows,
  ]);
  await db.client.query(`DELETE FROM ${t} WHERE ${deleteWhere}`);
  // The statistics are flushed asynchronously; wait until the deletes show up as dead rows.
  await waitUntil(async () => {
    await db.client.query('SELECT pg_stat_force_next_flush()');
    await db.client.query('SELECT pg_stat_clear_snapshot()');
    const r = await db.client.query(
      `SELECT n_dead_tup::int AS d FROM pg_stat_user_tables WHERE relname = $1`,
      [name],
    );
    return r.rows[0]?.d > 0;
  }, 'dead tuples in the statistics');
}

describe('db-maintain options', () => {
  it('makes vacuum_full an explicit opt-in and keeps operations to the database kind', () => {
    expect(optionsError(dbMaintainAction, { url: 'postgres://h/db', operations: ['vacuum_full'] })).toMatch(
      /^operations: vacuum_full rewrites each table under an ACCESS EXCLUSIVE lock .* set allow_exclusive_lock: true/,
    );
    expect(
      optionsError(dbMaintainAction, {
        url: 'postgres://h/db',
        operations: ['vacuum_full'],
        allow_exclusive_lock: true,
      }),
    ).toBeUndefined();
    expect(optionsError(dbMaintainAction, { path: 'a.db', operations: ['reindex'] })).toBe(
      'operations.0: reindex is not a SQLite operation; expected one of integrity_check, vacuum, analyze, optimize, wal_checkpoint',
    );
    expect(optionsError(dbMaintainAction, { url: 'postgres://h/db', operations: ['vacum'] })).toMatch(
      /^operations.0: expected one of .*\(did you mean "vacuum"\?\)/,
    );
  });
});

describe.skipIf(noPostgres)('db-maintain on PostgreSQL', () => {
  it('vacuum and analyze remove the dead rows of a bloated table and report the space reclaimed', async () => {
    const db = await testDatabase();
    await bloated(db, 'bloat', 40_000, 'id > 10000'); // the tail: VACUUM can truncate those pages
    const { result } = await runAction(
      dbMaintainAction,
      { url: db.url, tables: ['bloat'], operations: ['vacuum', 'analyze'] },
      { baseDir: tempDir() },
    );
    expect(result.ok, result.summary).toBe(true);
    const [t] = tablesOf(result.details);
    expect(t!.before.dead).toBe(30_000);
    expect(t!.after.dead).toBe(0);
    expect(t!.deadRemoved).toBe(30_000);
    expect(t!.before.lastVacuum).toBeNull();
    expect(t!.after.lastVacuum).not.toBeNull();
    expect(t!.after.lastAnalyze).not.toBeNull();
    expect(t!.before.modSinceAnalyze).toBeGreaterThan(0);
    expect(t!.after.modSinceAnalyze).toBe(0);
    expect(t!.after.bytes).toBeLessThan(t!.before.bytes);
    expect(result.bytesFreed).toBe(t!.before.bytes - t!.after.bytes);
    expect(result.summary).toMatch(
      /^vacuum, analyze on 1 table in .*: 30,000 dead rows removed, .* reclaimed$/,
    );
    // What the server says, independently of the action's own figures:
    const stats = await db.client.query(`SELECT reltuples::int AS n FROM pg_class WHERE relname = 'bloat'`);
    expect(stats.rows[0].n).toBe(10_000);
  });

  it('in a dry run lists the statements and changes nothing', async () => {
    const db = await testDatabase();
    await bloated(db, 'events', 2_000, 'id % 2 = 0');
    const { result } = await runAction(
      dbMaintainAction,
      { url: db.url, operations: ['vacuum', 'analyze', 'reindex'] },
      { baseDir: tempDir(), dryRun: true },
    );
    expect(result.plan).toEqual([
      expect.stringMatching(/^VACUUM \(ANALYZE\) "public"\."events" \(now 1,000 dead rows, .*\)$/),
      expect.stringMatching(/^REINDEX TABLE CONCURRENTLY "public"\."events" \(now 1,000 dead rows/),
    ]);
    await db.client.query('SELECT pg_stat_clear_snapshot()');
    const r = await db.client.query(`SELECT n_dead_tup::int AS d, last_vacuum FROM pg_stat_user_tables`);
    expect(r.rows).toEqual([{ d: 1_000, last_vacuum: null }]);
  });

  it('covers every table when none is named, skips a locked one after lock_timeout and warns', async () => {
    const db = await testDatabase();
    await bloated(db, 'busy', 1_000, 'id > 500');
    await bloated(db, 'quiet', 1_000, 'id > 500');
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    try {
      await app.query('BEGIN');
      await app.query('LOCK TABLE busy IN SHARE UPDATE EXCLUSIVE MODE'); // what a concurrent VACUUM holds
      const { result } = await runAction(
        dbMaintainAction,
        { url: db.url, operations: ['vacuum', 'reindex'], lock_timeout: '300ms' },
        { baseDir: tempDir() },
      );
      expect(result.ok).toBe(true);
      expect(result.warnings).toEqual([
        'vacuum of busy skipped: its lock was not free within 300ms',
        'reindex of busy skipped: its lock was not free within 300ms',
      ]);
      const [busy, quiet] = tablesOf(result.details);
      expect(busy!.table).toBe('busy');
      expect(busy!.after.dead).toBe(500);
      expect(quiet!.after.dead).toBe(0);
      expect(quiet!.steps).toEqual([
        expect.objectContaining({ op: 'vacuum', status: 'done' }),
        expect.objectContaining({ op: 'reindex', status: 'done' }),
      ]);
    } finally {
      await app.end();
    }
  });

  it('vacuum_full, once opted in, gives back space a plain VACUUM keeps, and says it locks', async () => {
    const db = await testDatabase();
    await bloated(db, 'sparse', 20_000, 'id % 10 <> 0'); // 90% dead, spread over every page
    const dir = tempDir();
    const plain = await runAction(
      dbMaintainAction,
      { url: db.url, operations: ['vacuum'] },
      { baseDir: dir },
    );
    const p = tablesOf(plain.result.details)[0]!;
    expect(p.after.dead).toBe(0);
    expect(p.bytesReclaimed).toBe(0); // pages stay allocated: free space inside the file
    const full = await runAction(
      dbMaintainAction,
      { url: db.url, operations: ['vacuum_full'], allow_exclusive_lock: true },
      { baseDir: dir },
    );
    const f = tablesOf(full.result.details)[0]!;
    expect(f.after.bytes).toBeLessThan(p.after.bytes / 3);
    expect(full.result.bytesFreed).toBeGreaterThan(0);
    expect(full.output).toContain('warning: vacuum_full of sparse locks the table until it ends');
  });

  it('skips a table another session holds ACCESS EXCLUSIVE with a warning, and maintains the rest', async () => {
    // Reading a locked table's size used to fail the whole run (55P03) before any table was touched.
    const db = await testDatabase();
    await bloated(db, 'busy', 1_000, 'id > 500');
    await bloated(db, 'quiet', 1_000, 'id > 500');
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    try {
      await app.query('BEGIN');
      await app.query('LOCK TABLE busy IN ACCESS EXCLUSIVE MODE'); // a migration, a VACUUM FULL
      const { result } = await runAction(
        dbMaintainAction,
        { url: db.url, operations: ['vacuum', 'analyze'], lock_timeout: '200ms' },
        { baseDir: tempDir() },
      );
      expect(result.ok).toBe(true);
      expect(result.warnings).toEqual(['vacuum+analyze of busy skipped: its lock was not free within 200ms']);
      const [busy, quiet] = tablesOf(result.details);
      expect(busy).toMatchObject({
        table: 'busy',
        steps: [{ op: 'vacuum+analyze', status: 'lock_timeout' }],
      });
      expect(busy!.before.bytes).toBeNull();
      expect(quiet).toMatchObject({ table: 'quiet', deadRemoved: 500, steps: [{ status: 'done' }] });
    } finally {
      await app.end();
    }
  });

  it('drops the invalid indexes an interrupted REINDEX CONCURRENTLY leaves, instead of adding one per run', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE busy (id int PRIMARY KEY, body text)`);
    // Wide rows: the TOAST table has an index too, and REINDEX CONCURRENTLY rebuilds it as well.
    await db.client.query(
      `INSERT INTO busy SELECT g, repeat(md5(g::text), 300) FROM generate_series(1, 100) g`,
    );
    await db.client.query(`CREATE TABLE quiet (id int PRIMARY KEY)`);
    // An invalid index that is not caretaker's: reported, never dropped.
    await db.client.query(`INSERT INTO quiet SELECT g FROM generate_series(1, 3) g`);
    await db.client.query(`ALTER TABLE quiet ADD COLUMN k int DEFAULT 1`);
    await db.client.query(`CREATE UNIQUE INDEX CONCURRENTLY quiet_k ON quiet (k)`).catch(() => undefined);
    const invalid = async () =>
      (
        await db.client.query<{ name: string }>(
          `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid ORDER BY 1`,
        )
      ).rows.map((r) => r.name);
    expect(await invalid()).toEqual(['quiet_k']);
    const run = async () =>
      (
        await runAction(
          dbMaintainAction,
          { url: db.url, operations: ['reindex'], lock_timeout: '200ms' },
          { baseDir: tempDir() },
        )
      ).result;

    // A reader in an open transaction makes REINDEX CONCURRENTLY time out waiting for it.
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    await app.query('BEGIN');
    await app.query('SELECT count(*) FROM busy');
    const leftovers: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await run();
      expect(r.ok).toBe(true);
      expect(r.warnings).toContain('reindex of busy skipped: its lock was not free within 200ms');
      expect(r.warnings).toContain(
        'index quiet_k of quiet is invalid (not made by caretaker, left as it is): rebuild it with REINDEX INDEX CONCURRENTLY or drop it',
      );
      // Each leftover is named with the table it belongs to.
      for (const w of r.warnings!.filter((x) => x.includes('_cc')))
        expect(w).toMatch(
          /^index \S+_cc(new|old)\d* of (the TOAST table of )?busy, left invalid by an interrupted REINDEX CONCURRENTLY/,
        );
      leftovers.push((await invalid()).filter((n) => /_cc(new|old)/.test(n)).length);
    }
    // Not one more per run: the first run's leftover stays until its table is free, no more.
    expect(leftovers).toEqual([leftovers[0], leftovers[0], leftovers[0]]);
    await app.query('COMMIT');
    await app.end();

    const r = await run();
    expect(r.ok).toBe(true);
    expect(await invalid()).toEqual(['quiet_k']);
    const [busy] = tablesOf(r.details);
    expect(busy!.steps).toEqual([expect.objectContaining({ op: 'reindex', status: 'done' })]);
    if (leftovers[0]! > 0)
      expect((r.details as { droppedInvalidIndexes: string[] }).droppedInvalidIndexes.length).toBeGreaterThan(
        0,
      );
  });

  it('names a table that does not exist', async () => {
    const db = await testDatabase();
    await db.client.query('CREATE TABLE orders (id int)');
    const { result } = await runAction(
      dbMaintainAction,
      { url: db.url, tables: ['orders', 'ordrs'] },
      { baseDir: tempDir() },
    );
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(
      /: tables: table "ordrs" does not exist on the search path \(did you mean "orders"\?\)$/,
    );
  });
});

describe('db-maintain on SQLite', () => {
  function bloatedFile(dir: string, wal = false): string {
    const path = join(dir, 'app.db');
    const db = openSqlite(path);
    if (wal) db.pragma('journal_mode = WAL');
    db.exec(
      'CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB); CREATE INDEX blobs_body ON blobs (id, body)',
    );
    const ins = db.prepare('INSERT INTO blobs (body) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) ins.run(Buffer.alloc(1_000, i % 256));
    });
    db.exec('DELETE FROM blobs WHERE id > 200');
    db.close();
    return path;
  }

  it('vacuum shrinks the file, analyze writes statistics, integrity_check passes', async () => {
    const dir = tempDir();
    const path = bloatedFile(dir);
    const sizeBefore = statSync(path).size;
    const { result } = await runAction(
      dbMaintainAction,
      { path: 'app.db', operations: ['optimize', 'analyze', 'vacuum', 'integrity_check'] },
      { baseDir: dir },
    );
    expect(result.ok, result.summary).toBe(true);
    expect(statSync(path).size).toBeLessThan(sizeBefore / 4);
    expect(result.bytesFreed).toBe(sizeBefore - statSync(path).size);
    const details = result.details as {
      before: { freePages: number };
      after: { freePages: number };
      results: object;
    };
    expect(details.before.freePages).toBeGreaterThan(100);
    expect(details.after.freePages).toBe(0);
    expect(Object.keys(details.results)).toEqual(['integrity_check', 'vacuum', 'analyze', 'optimize']);
    const db = openSqlite(path, { readonly: true });
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_stat1 WHERE tbl = 'blobs'`).get()).toEqual({ n: 1 });
    db.close();
  });

  it('refuses vacuum when the free disk is smaller than the database', async () => {
    const dir = tempDir();
    const path = bloatedFile(dir);
    const size = statSync(path).size;
    // A nearly full filesystem cannot be created here without root, so the free-space probe is
    // injected; everything else (the file, SQLite, the sizes) is real.
    const action = createDbMaintainAction({ freeSpace: () => Promise.resolve(size - 1) });
    const { result } = await runAction(
      action,
      { path: 'app.db', operations: ['vacuum', 'analyze'] },
      { baseDir: dir },
    );
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^vacuum refused: it needs room for a full copy of the .* database, and only .* is free/,
      ),
    ]);
    expect(statSync(path).size).toBe(size);
    expect((result.details as { results: object }).results).toEqual({ vacuum: 'refused', analyze: 'done' });
  });

  it('checkpoints and truncates the WAL', async () => {
    const dir = tempDir();
    const path = bloatedFile(dir, true);
    const app = openSqlite(path); // the application, still connected: its WAL stays
    app.exec('DELETE FROM blobs WHERE id > 100');
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    const { result } = await runAction(
      dbMaintainAction,
      { path: 'app.db', operations: ['wal_checkpoint'] },
      { baseDir: dir },
    );
    app.close();
    expect(result.ok).toBe(true);
    expect((result.details as { after: { walBytes: number } }).after.walBytes).toBe(0);
  });

  it('stops at integrity_check on a damaged file and runs nothing else', async () => {
    const dir = tempDir();
    const path = bloatedFile(dir);
    const db = openSqlite(path);
    const { rootpage } = db.prepare(`SELECT rootpage FROM sqlite_schema WHERE name = 'blobs_body'`).get() as {
      rootpage: number;
    };
    const pageSize = db.pragmaValue('page_size') as number;
    db.close();
    // Scribble over the index's root page (past its header): the table and the index disagree.
    const fd = openSync(path, 'r+');
    const page = Buffer.alloc(pageSize);
    readSync(fd, page, 0, pageSize, (rootpage - 1) * pageSize);
    page.fill(0x41, 200, pageSize - 8);
    writeSync(fd, page, 0, pageSize, (rootpage - 1) * pageSize);
    closeSync(fd);
    const size = statSync(path).size;
    const { result } = await runAction(
      dbMaintainAction,
      { path: 'app.db', operations: ['integrity_check', 'vacuum'] },
      { baseDir: dir },
    );
    expect(result.ok).toBe(false);
    expect(result.issuesFound).toBeGreaterThan(0);
    expect(result.summary).toMatch(
      /^integrity_check found \d+ problems? in .*app\.db: .*; nothing else was run$/,
    );
    expect(statSync(path).size).toBe(size);
  });
});
