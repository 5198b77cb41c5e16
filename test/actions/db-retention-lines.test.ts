/**
 * What the pipelined archive path (issue 17) could break, on the real PostgreSQL: the archive's
 * lines — now built by the server where the column types allow it — must be byte for byte what
 * the JavaScript encoder writes from the rows the driver parses (what every archive held before);
 * and rows the application changes between a batch's read and its DELETE must end in exactly one
 * place, archived as they were when deleted, never as an older version.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dbRetentionAction } from '../../src/actions/db-retention.js';
import { decodeRows, encodeRows, type Row } from '../../src/actions/datastore/archive-format.js';
import { pgJsonLine } from '../../src/actions/datastore/pg-json-line.js';
import { PgSession } from '../../src/actions/datastore/pg-session.js';
import { openPgRetention } from '../../src/actions/datastore/retention-postgres.js';
import { runAction } from '../support/run-action.js';
import { ManualClock } from '../../src/engine/clock.js';
import { advanceTo, nextTimer } from '../support/clock-driver.js';
import { needPostgres, testDatabase } from '../support/services.js';
import { tempDir } from '../support/tmp.js';

const noPostgres = await needPostgres();
const DAY = 86_400_000;

/** Every archive of `dir`, decompressed and concatenated in key order (names carry the range). */
function archiveText(dir: string): string {
  const first = (f: string) => Number(/^[^.]+\.(-?\d+)-/.exec(f)?.[1]);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.gz'))
    .sort((a, b) => first(a) - first(b))
    .map((f) => gunzipSync(readFileSync(join(dir, f))).toString('utf8'))
    .join('');
}

/** The table's rows as the old path encoded them: the driver's parse (archiveTypes), then encodeRows. */
async function oldEncoding(url: string, where = 'TRUE'): Promise<string> {
  const s = await PgSession.open({
    url,
    signal: new AbortController().signal,
    lockTimeoutMs: 5_000,
    statementTimeoutMs: 60_000,
    archiveTypes: true,
  });
  try {
    const r = await s.query<Row>(`SELECT * FROM events t WHERE ${where} ORDER BY id`);
    return encodeRows(
      r.rows,
      r.fields.map((f) => f.name),
      'jsonl',
    );
  } finally {
    await s.close();
  }
}

async function columnsOf(client: pg.Client): Promise<{ name: string; type: string }[]> {
  return (
    await client.query<{ name: string; type: string }>(
      `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = 'events'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    )
  ).rows;
}

async function retain(url: string, extra: Record<string, unknown> = {}) {
  const dir = tempDir('ct-lines-');
  const { result } = await runAction(
    dbRetentionAction,
    {
      url,
      table: 'events',
      timestamp_column: 'ts',
      older_than: '7d',
      archive_to: 'archive',
      batch: 3,
      ...extra,
    },
    { baseDir: dir },
  );
  expect(result.ok, result.summary).toBe(true);
  return { dir: join(dir, 'archive'), result };
}

describe.skipIf(noPostgres)('db-retention archive lines built by PostgreSQL', () => {
  it('are byte for byte what the JavaScript encoder writes, for every type on the fast path and their edge values', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE events (
      id bigint PRIMARY KEY, ts timestamptz NOT NULL, i2 smallint, i4 integer, big bigint, b boolean,
      t text, v varchar(20), u uuid, n numeric, n2 numeric(10,2), d date, tl timestamp, t3 timestamptz(3),
      by bytea, "odd ""name"", \\ é" text)`);
    const old = `now() - interval '30 days'`;
    // Every code point from 1 to 127 (NUL cannot be in a PostgreSQL text), separators, astral.
    const ascii = Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1)).join('');
    await db.client.query(
      `INSERT INTO events VALUES
        (1, ${old}, 1, -2, 9007199254740991, true, $1, 'quote " back \\ slash', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
            'NaN', 12.5, '2026-01-31', '2026-01-01 00:00:00.123456', '2026-01-01 02:03:04.5+00', '\\x00ff10', 'x'),
        (2, ${old}, -32768, 2147483647, 9007199254740992, false, $2, '', NULL, '0.00000000000000000001', -0.5,
            '0044-03-15 BC', 'infinity', '-infinity', '\\x', ''),
        (3, ${old}, NULL, NULL, -9007199254740991, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (4, ${old}, 0, 0, -9007199254740992, true, 'tab\there', 'x', NULL, '123456789012345678901234567890.123', 0,
            NULL, '1999-12-31 23:59:59', '2000-01-01 00:00:00+00', NULL, NULL),
        (5, ${old}, 0, 0, 9223372036854775807, true, 'a', 'b', NULL, '-1', NULL, NULL, NULL, NULL, NULL, NULL),
        (6, ${old}, 0, 0, -9223372036854775808, false, 'z', 'y', NULL, '1e5', NULL, NULL, NULL, NULL, NULL, NULL),
        (7, now(), 0, 0, 0, false, 'young', 'kept', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
      [ascii, 'é 😀 \u2028 \u2029 \ufeff ÿ 中文'],
    );
    expect(pgJsonLine(await columnsOf(db.client), 3), 'every column on the fast path').toBeDefined();
    const expected = await oldEncoding(db.url, `ts < now() - interval '7 days'`);
    const { dir, result } = await retain(db.url);
    expect(result.details).toMatchObject({ deleted: 6, archived: 6 });
    const got = archiveText(dir);
    expect(got).toBe(expected);
    expect(decodeRows(got, 'jsonl').map((r) => r.big)).toEqual([
      9007199254740991,
      '9007199254740992',
      -9007199254740991,
      '-9007199254740992',
      '9223372036854775807',
      '-9223372036854775808',
    ]);
  });

  it('leave other types to JavaScript, with the same lines as before', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE events (
      id integer PRIMARY KEY, ts timestamp NOT NULL, j jsonb, f float8, a int[], iv interval, c char(5), "1" text)`);
    await db.client.query(
      `INSERT INTO events VALUES
        (1, now() - interval '30 days', '{"b": 1.0, "a": [1, 2]}', 1.5e-7, '{1,2,3}', '1 day 02:00', 'ab', 'one'),
        (2, now() - interval '30 days', NULL, 'Infinity', '{}', NULL, NULL, NULL),
        (3, now(), 'null', 0, NULL, NULL, 'kept', 'kept')`,
    );
    const columns = await columnsOf(db.client);
    for (const c of columns.slice(2)) expect(pgJsonLine([c], 3), `${c.name} (${c.type})`).toBeUndefined();
    const expected = await oldEncoding(db.url, `ts < now() - interval '7 days'`);
    const { dir } = await retain(db.url);
    expect(archiveText(dir)).toBe(expected);
  });

  it('archive only the archive_where rows, and still delete every old row', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE events (id bigint PRIMARY KEY, ts timestamptz NOT NULL, level text)`);
    await db.client.query(
      `INSERT INTO events SELECT g, now() - interval '30 days', CASE WHEN g % 3 = 0 THEN 'error' ELSE 'info' END
         FROM generate_series(1, 20) g`,
    );
    const expected = await oldEncoding(db.url, `level = 'error'`);
    const { dir, result } = await retain(db.url, { archive_where: "level = 'error'", batch: 4 });
    expect(result.details).toMatchObject({ deleted: 20, archived: 6 });
    expect(archiveText(dir)).toBe(expected);
    expect((await db.client.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(0);
  });
});

describe.skipIf(noPostgres)('db-retention while the application changes the rows being archived', () => {
  it('deletes nothing of a batch whose row changed after the read, and takes it once read again', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE events (id bigint PRIMARY KEY, ts timestamptz NOT NULL, msg text)`);
    await db.client.query(
      `INSERT INTO events SELECT g, now() - interval '30 days', 'm' || g FROM generate_series(1, 10) g`,
    );
    const backend = await openPgRetention(db.url, {
      table: 'events',
      timestampColumn: 'ts',
      archiving: true,
      archiveFormat: 'jsonl',
      cutoffMs: Date.now() - 7 * DAY,
      lockTimeoutMs: 5_000,
      statementTimeoutMs: 60_000,
      signal: new AbortController().signal,
    });
    try {
      const opt = backend.optimistic!;
      const read = (await opt.readBatch(undefined, 5))!;
      expect(read).toMatchObject({ count: 5, lo: 1, hi: 5 });
      expect(read.archiveText).toContain('"msg":"m3"');
      await db.client.query(`UPDATE events SET msg = 'changed' WHERE id = 3`);
      expect(await opt.deleteUnchanged(read), 'a changed row stops the DELETE').toBeNull();
      expect((await db.client.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(10);
      // A row deleted by the application meanwhile stops it too: the archive would hold it.
      const again = (await opt.readBatch(undefined, null, read.hi))!;
      expect(again.archiveText).toContain('"msg":"changed"');
      await db.client.query(`DELETE FROM events WHERE id = 4`);
      expect(await opt.deleteUnchanged(again)).toBeNull();
      // A row inserted into the range meanwhile is not the batch's: the DELETE leaves it (and a
      // change outside the range does not matter).
      const third = (await opt.readBatch(undefined, null, read.hi))!;
      expect(third.count).toBe(4);
      await db.client.query(`INSERT INTO events VALUES (4, now() - interval '30 days', 'late')`);
      await db.client.query(`UPDATE events SET msg = 'outside' WHERE id = 9`);
      expect(await opt.deleteUnchanged(third)).toBe(4);
      const left = (await db.client.query<{ id: string }>('SELECT id FROM events ORDER BY id')).rows;
      expect(left.map((r) => Number(r.id))).toEqual([4, 6, 7, 8, 9, 10]);
    } finally {
      await backend.close();
    }
  });

  it('archives every row exactly once, each as it was when deleted, under an application updating them', async () => {
    const db = await testDatabase();
    const ROWS = 20_000;
    await db.client.query(
      `CREATE TABLE events (id bigint PRIMARY KEY, ts timestamptz NOT NULL, msg text NOT NULL)`,
    );
    await db.client.query(
      `INSERT INTO events SELECT g, now() - interval '30 days', 'original' FROM generate_series(1, $1::int) g`,
      [ROWS],
    );
    // The application: updates random old rows as fast as it can; remembers each row's last
    // committed value (an update of a row already deleted changes nothing and is not counted).
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    const last = new Map<number, string>();
    let stop = false;
    let n = 0;
    const updating = (async () => {
      while (!stop) {
        const id = 1 + Math.floor(Math.random() * ROWS);
        const msg = `update ${++n}`;
        const r = await app.query('UPDATE events SET msg = $2 WHERE id = $1', [id, msg]);
        if (r.rowCount === 1) last.set(id, msg);
      }
    })();
    let result;
    let dir;
    try {
      ({ dir, result } = await retain(db.url, { batch: 500 }));
    } finally {
      stop = true;
      await updating;
      await app.end();
    }
    const rows = decodeRows(archiveText(dir), 'jsonl');
    const ids = rows.map((r) => Number(r.id));
    expect(new Set(ids).size, 'no row archived twice').toBe(ids.length);
    expect(ids.length).toBe(ROWS);
    expect((await db.client.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(0);
    const stale = rows.filter((r) => r.msg !== (last.get(Number(r.id)) ?? 'original'));
    expect(stale, 'rows archived in a version older than the one deleted').toEqual([]);
    expect(existsSync(dir) && readdirSync(dir).some((f) => /\.(pending|tmp)$/.test(f))).toBe(false);
    console.log(
      `db-retention under ${n} concurrent updates: ${String((result.details as { retriedBatches: number }).retriedBatches)} batches read again`,
    );
  });
});

describe.skipIf(noPostgres)('db-retention archiving with a pause on PostgreSQL', () => {
  it('reads and archives the next batch only after the pause, on the run clock', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE events (id bigint PRIMARY KEY, ts timestamptz NOT NULL)`);
    await db.client.query(`INSERT INTO events SELECT g, '2000-01-01' FROM generate_series(1, 3) g`);
    const dir = tempDir('ct-lines-');
    const archive = join(dir, 'archive');
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const run = runAction(
      dbRetentionAction,
      {
        url: db.url,
        table: 'events',
        timestamp_column: 'ts',
        older_than: '1d',
        batch: 1,
        pause: '10s',
        archive_to: 'archive',
      },
      { baseDir: dir, clock },
    );
    for (let i = 1; i <= 3; i++) {
      const due = await nextTimer(clock);
      expect(clock.pending(), `pause after batch ${i}`).toEqual([clock.now() + 10_000]);
      // Batch i is done, and nothing of batch i + 1 was read or archived ahead of the pause.
      const files = readdirSync(archive);
      expect(files.filter((f) => f.endsWith('.jsonl.gz'))).toHaveLength(i);
      expect(files.filter((f) => !f.endsWith('.jsonl.gz'))).toEqual([]);
      expect((await db.client.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(3 - i);
      await advanceTo(clock, due!);
    }
    const { result } = await run;
    expect(result.details).toMatchObject({ deleted: 3, batches: 3, archived: 3 });
  });

  it('stops reading at max_rows and says so', async () => {
    const db = await testDatabase();
    await db.client.query(`CREATE TABLE events (id bigint PRIMARY KEY, ts timestamptz NOT NULL)`);
    await db.client.query(`INSERT INTO events SELECT g, '2000-01-01' FROM generate_series(1, 25) g`);
    const { dir, result } = await retain(db.url, { batch: 4, max_rows: 10 });
    expect(result.details).toMatchObject({ deleted: 10, archived: 10, capped: true });
    expect(decodeRows(archiveText(dir), 'jsonl').map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
