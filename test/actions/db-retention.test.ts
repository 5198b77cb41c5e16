/** db-retention's behaviour on the real PostgreSQL and on SQLite files (crash safety: -crash.test.ts). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openSqlite, type SqliteDatabase } from '../../src/store/sqlite/driver.js';
import { dbRetentionAction } from '../../src/actions/db-retention.js';
import { decodeRows } from '../../src/actions/datastore/archive-format.js';
import { ManualClock } from '../../src/engine/clock.js';
import { optionsError, runAction } from '../support/run-action.js';
import { needPostgres, testDatabase } from '../support/services.js';
import { advanceTo, nextTimer } from '../support/clock-driver.js';
import { tempDir } from '../support/tmp.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const DAY = 86_400_000;
const noPostgres = await needPostgres();

function readArchives(dir: string): Record<string, unknown>[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) =>
      decodeRows(
        gunzipSync(readFileSync(join(dir, f))).toString('utf8'),
        f.includes('.csv') ? 'csv' : 'jsonl',
      ),
    );
}

describe('db-retention options', () => {
  it('needs exactly one database and archive_to for the archive options', () => {
    expect(optionsError(dbRetentionAction, { table: 't', timestamp_column: 'ts', older_than: '1d' })).toMatch(
      /needs a database: url/,
    );
    expect(
      optionsError(dbRetentionAction, {
        url: 'postgres://x@h/db',
        path: 'a.db',
        table: 't',
        timestamp_column: 'ts',
        older_than: '1d',
      }),
    ).toMatch(/^path: give only one of url, url_env and path/);
    expect(
      optionsError(dbRetentionAction, {
        path: 'a.db',
        table: 't',
        timestamp_column: 'ts',
        older_than: '1d',
        archive_where: 'x = 1',
      }),
    ).toBe('archive_where: archive_where needs archive_to (where the archive goes)');
    expect(
      optionsError(dbRetentionAction, {
        path: 'a.db',
        table: 't',
        timestamp_column: 'ts',
        older_than: 'a week',
      }),
    ).toMatch(/^older_than: expected a duration/);
  });
});

describe.skipIf(noPostgres)('db-retention on PostgreSQL', () => {
  it('dry run reports the rows per batch and changes nothing', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL)`);
    await db.client.query(
      `INSERT INTO events (ts) SELECT to_timestamp($1::bigint / 1000.0) - (g || ' hours')::interval
         FROM generate_series(1, 240) g`,
      [NOW],
    ); // one row per hour over 10 days: 72 rows within the last 3 days
    const dir = tempDir();
    const { result } = await runAction(
      dbRetentionAction,
      {
        url: db.url,
        table: 'events',
        timestamp_column: 'ts',
        older_than: '3d',
        batch: 50,
        archive_to: 'archive',
      },
      { baseDir: dir, dryRun: true, clock: new ManualClock(NOW) },
    );
    expect(result.ok).toBe(true);
    expect(result.summary).toBe(
      'would delete 168 of 168 rows older than 2026-05-29T12:00:00.000Z from events in 4 batches (archive 168 to archive)',
    );
    expect(result.plan).toEqual([
      'batch 1: id 73..122: delete 50 rows, archive 50 to archive',
      'batch 2: id 123..172: delete 50 rows, archive 50 to archive',
      'batch 3: id 173..222: delete 50 rows, archive 50 to archive',
      'batch 4: id 223..240: delete 18 rows, archive 18 to archive',
    ]);
    expect((await db.client.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(240);
    expect(existsSync(join(dir, 'archive'))).toBe(false);
  });

  it('quotes odd table and column names, archives only archive_where rows as CSV, deletes all old rows', async () => {
    const db = await testDatabase();
    const table = 'audit log; DROP TABLE victim';
    await db.client.query(`CREATE TABLE victim (x int)`);
    await db.client.query(
      `CREATE TABLE ${pg.escapeIdentifier(table)} (
         "Key" bigint PRIMARY KEY, "created at" timestamp NOT NULL, level text, note text)`,
    );
    await db.client.query(
      `INSERT INTO ${pg.escapeIdentifier(table)} VALUES
         (1, '2026-01-01 00:00:00', 'error', 'disk "full", again'),
         (2, '2026-01-02 00:00:00', 'info', ''),
         (3, '2026-01-03 00:00:00', 'error', NULL),
         (4, '2026-05-31 00:00:00', 'error', 'recent: kept')`,
    );
    const dir = tempDir();
    const { result } = await runAction(
      dbRetentionAction,
      {
        url: db.url,
        table,
        timestamp_column: 'created at',
        older_than: '30d',
        archive_to: 'archive',
        archive_format: 'csv',
        archive_where: `level = 'error'`,
      },
      { baseDir: dir, clock: new ManualClock(NOW) },
    );
    expect(result.ok, result.summary).toBe(true);
    expect(result.details).toMatchObject({ deleted: 3, archived: 2, archiveFiles: 1 });
    const rows = (await db.client.query(`SELECT "Key" FROM ${pg.escapeIdentifier(table)}`)).rows;
    expect(rows).toEqual([{ Key: '4' }]);
    expect((await db.client.query(`SELECT count(*)::int AS n FROM victim`)).rows[0].n).toBe(0); // still there
    const archived = readArchives(join(dir, 'archive'));
    expect(archived).toEqual([
      { Key: '1', 'created at': '2026-01-01 00:00:00', level: 'error', note: 'disk "full", again' },
      { Key: '3', 'created at': '2026-01-03 00:00:00', level: 'error', note: null },
    ]);
  });

  it('names an unknown table or column and deletes nothing', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE events (id int PRIMARY KEY, ts timestamptz)`);
    await db.client.query(`INSERT INTO events VALUES (1, '2000-01-01')`);
    const dir = tempDir();
    const table = await runAction(
      dbRetentionAction,
      { url: db.url, table: 'evnts', timestamp_column: 'ts', older_than: '1d' },
      { baseDir: dir },
    );
    expect(table.result.ok).toBe(false);
    expect(table.result.summary).toMatch(
      /: table: table "evnts" does not exist on the search path \(did you mean "events"\?\)/,
    );
    const column = await runAction(
      dbRetentionAction,
      { url: db.url, table: 'events', timestamp_column: 'created', older_than: '1d' },
      { baseDir: dir },
    );
    expect(column.result.summary).toMatch(
      /timestamp_column: column "created" does not exist in table events/,
    );
    expect((await db.client.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(1);
  });

  it('stops cleanly at lock_timeout when the application holds a row lock, losing nothing', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE events (id int PRIMARY KEY, ts timestamptz)`);
    await db.client.query(`INSERT INTO events SELECT g, '2000-01-01' FROM generate_series(1, 30) g`);
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    try {
      await app.query('BEGIN');
      await app.query('SELECT * FROM events WHERE id = 25 FOR UPDATE'); // in the third batch of 10
      const dir = tempDir();
      const { result } = await runAction(
        dbRetentionAction,
        {
          url: db.url,
          table: 'events',
          timestamp_column: 'ts',
          older_than: '1d',
          batch: 10,
          lock_timeout: '200ms',
          archive_to: 'archive',
        },
        { baseDir: dir },
      );
      expect(result.ok).toBe(false);
      expect(result.summary).toMatch(/stopped — batch 3 failed: canceling statement due to lock timeout/);
      expect(result.summary).toMatch(/deleted 20 rows/);
      expect((await db.client.query('SELECT min(id) AS m FROM events')).rows[0].m).toBe(21);
      expect(readArchives(join(dir, 'archive'))).toHaveLength(20);
      expect(readdirSync(join(dir, 'archive')).some((f) => f.endsWith('.pending'))).toBe(false);
    } finally {
      await app.end();
    }
  });

  it('never shows the password of a URL it cannot connect with', async () => {
    const dir = tempDir();
    const { result } = await runAction(
      dbRetentionAction,
      {
        url: 'postgres://app:s3cr3t-pw@127.0.0.1:1/prod',
        table: 'events',
        timestamp_column: 'ts',
        older_than: '1d',
      },
      { baseDir: dir },
    );
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/^postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/prod: .*ECONNREFUSED/);
    expect(JSON.stringify(result)).not.toContain('s3cr3t');
    const fromEnv = await runAction(
      dbRetentionAction,
      { url_env: 'CT_TEST_UNSET_DB_URL', table: 'events', timestamp_column: 'ts', older_than: '1d' },
      { baseDir: dir },
    );
    expect(fromEnv.result.summary).toBe('environment variable CT_TEST_UNSET_DB_URL (url_env) is not set');
  });
});

describe('db-retention on SQLite', () => {
  function sqliteFile(dir: string, setup: (db: SqliteDatabase) => void): string {
    const path = join(dir, 'app.db');
    const db = openSqlite(path);
    setup(db);
    db.close();
    return path;
  }

  it('batches a table without a primary key by rowid, with epoch-ms timestamps, up to max_rows', async () => {
    const dir = tempDir();
    const path = sqliteFile(dir, (db) => {
      db.exec('CREATE TABLE log (at INTEGER NOT NULL, line TEXT)');
      const ins = db.prepare('INSERT INTO log VALUES (?, ?)');
      for (let i = 0; i < 100; i++) ins.run(NOW - (i < 70 ? 10 : 0) * DAY - i, `line ${i}`);
    });
    const options = {
      path: 'app.db',
      table: 'log',
      timestamp_column: 'at',
      timestamp_format: 'epoch_ms',
      older_than: '7d',
      batch: 16,
      max_rows: 40,
      archive_to: 'archive',
    };
    const first = await runAction(dbRetentionAction, options, { baseDir: dir, clock: new ManualClock(NOW) });
    expect(first.result.ok, first.result.summary).toBe(true);
    expect(first.result.details).toMatchObject({ deleted: 40, batches: 3, capped: true });
    const second = await runAction(dbRetentionAction, options, { baseDir: dir, clock: new ManualClock(NOW) });
    expect(second.result.details).toMatchObject({ deleted: 30, capped: false });
    const db = openSqlite(path, { readonly: true });
    expect(db.prepare('SELECT min(rowid) AS lo, count(*) AS n FROM log').get()).toEqual({ lo: 71, n: 30 });
    db.close();
    const archived = readArchives(join(dir, 'archive'));
    expect(archived.map((r) => r.rowid)).toEqual(Array.from({ length: 70 }, (_, i) => i + 1));
    expect(archived[0]).toEqual({ rowid: 1, at: NOW - 10 * DAY, line: 'line 0' });
  });

  it('needs timestamp_format for an INTEGER timestamp column', async () => {
    const dir = tempDir();
    sqliteFile(dir, (db) => db.exec('CREATE TABLE log (id INTEGER PRIMARY KEY, at INTEGER)'));
    const { result } = await runAction(
      dbRetentionAction,
      { path: 'app.db', table: 'log', timestamp_column: 'at', older_than: '7d' },
      { baseDir: dir },
    );
    expect(result.summary).toMatch(/timestamp_column at is declared INTEGER: set timestamp_format/);
  });

  it('waits `pause` between batches on the run clock', async () => {
    const dir = tempDir();
    sqliteFile(dir, (db) => {
      db.exec('CREATE TABLE log (id INTEGER PRIMARY KEY, ts TEXT)');
      for (let i = 1; i <= 3; i++) db.prepare('INSERT INTO log VALUES (?, ?)').run(i, '2000-01-01 00:00:00');
    });
    const clock = new ManualClock(NOW);
    const run = runAction(
      dbRetentionAction,
      { path: 'app.db', table: 'log', timestamp_column: 'ts', older_than: '1d', batch: 1, pause: '10s' },
      { baseDir: dir, clock },
    );
    let finished = false;
    void run.then(() => (finished = true));
    for (let i = 0; i < 3; i++) {
      const due = await nextTimer(clock);
      expect(clock.pending(), `pause after batch ${i + 1}`).toEqual([clock.now() + 10_000]);
      expect(finished).toBe(false);
      await advanceTo(clock, due!);
    }
    const { result } = await run;
    expect(result.details).toMatchObject({ deleted: 3, batches: 3 });
  });
});
