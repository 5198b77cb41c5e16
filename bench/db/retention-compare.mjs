// db-retention archives of two builds on identical rows, compared line for line: what issue 17
// checked before changing how archives are written. Each build's archive is read back with
// `zcat` (the standard tool is the judge), in key order, and the texts must be equal.
//
//   git worktree add /tmp/old <commit> && (cd /tmp/old && npm ci && npm run build)
//   node bench/db/retention-compare.mjs /tmp/old/dist dist
//
// Tables: the benchmark's (bigserial, timestamptz, text: lines built by PostgreSQL), one with
// every type of that fast path plus edge values, and one with jsonb/float8/text[] (lines encoded
// by caretaker), the last also as CSV and with archive_where. Needs PostgreSQL and zcat.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pg from 'pg';
import pino from 'pino';
const [oldDist, newDist] = process.argv.slice(2);
if (!oldDist || !newDist) {
  console.error('usage: node bench/db/retention-compare.mjs OLD_DIST NEW_DIST');
  process.exit(2);
}
const base = process.env.CARETAKER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Client({ connectionString: base });
await admin.connect();
const dbn = 'ct_cmp_' + process.pid;
await admin.query(`CREATE DATABASE ${dbn}`);
const u = new URL(base);
u.pathname = `/${dbn}`;
const url = u.toString();
const c = new pg.Client({ connectionString: url });
await c.connect();
async function seed(kind) {
  await c.query('DROP TABLE IF EXISTS events');
  if (kind === 'bench') {
    await c.query(
      `CREATE TABLE events (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, payload text NOT NULL)`,
    );
    await c.query(
      `INSERT INTO events (ts, payload) SELECT timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1 ms', md5(g::text) || repeat('x', 100) FROM generate_series(1, 100000) g`,
    );
  } else if (kind === 'fast') {
    await c.query(
      `CREATE TABLE events (id bigint PRIMARY KEY, ts timestamptz NOT NULL, i integer, big bigint, b boolean, t text, n numeric, d date, by bytea, u uuid)`,
    );
    await c.query(
      `INSERT INTO events SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 s', g % 7 - 3, (g::bigint * 1000000007) * (CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END) * 100000, CASE WHEN g % 4 = 0 THEN NULL ELSE g % 3 = 0 END, 'line ' || g || E' "q" \\\\ \t ' || chr(1 + g % 126) || ' é😀', (g / 7.0)::numeric, date '2020-01-01' + g, decode(md5(g::text), 'hex'), md5(g::text)::uuid FROM generate_series(1, 20000) g`,
    );
  } else {
    await c.query(
      `CREATE TABLE events (id bigint PRIMARY KEY, ts timestamptz NOT NULL, i integer, big bigint, b boolean, t text, n numeric, d date, by bytea, j jsonb, f float8, a text[])`,
    );
    await c.query(
      `INSERT INTO events SELECT g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 s', g % 7 - 3, (g::bigint * 1000000007) * (CASE WHEN g % 2 = 0 THEN 1 ELSE -1 END) * 100000, g % 3 = 0, 'line ' || g || E' "q" \\\\ \t ' || chr(1 + g % 126) || ' é😀', (g / 7.0)::numeric, date '2020-01-01' + g, decode(md5(g::text), 'hex'), CASE WHEN g % 5 = 0 THEN jsonb_build_object('g', g, 'x', 1.50) END, g / 3.0, ARRAY['a' || g, NULL] FROM generate_series(1, 20000) g`,
    );
  }
}
async function run(dist, kind, extra) {
  const { dbRetentionAction } = await import(join(dist, 'actions', 'db-retention.js'));
  const { SystemClock } = await import(join(dist, 'engine', 'clock.js'));
  const dir = mkdtempSync(join(tmpdir(), 'ct-cmp-'));
  const ctx = {
    taskId: 'b',
    runId: 1,
    attempt: 1,
    host: 'b',
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    dryRun: false,
    clock: new SystemClock(),
    baseDir: dir,
    stateDir: join(dir, '.caretaker'),
    taskStateDir: join(dir, '.caretaker', 't'),
    killGraceMs: 2000,
    output: () => {},
    progress: () => {},
    snapshot: async () => {},
    history: { recent: async () => [] },
    resolvePath: (p) => resolve(dir, p),
  };
  const o = dbRetentionAction.schema.parse({
    url,
    table: 'events',
    timestamp_column: 'ts',
    older_than: '30d',
    batch: 5000,
    archive_to: 'archive',
    ...extra,
  });
  const r = await dbRetentionAction.run(ctx, o);
  if (!r.ok) throw new Error(r.summary);
  const adir = join(dir, 'archive');
  const files = readdirSync(adir).sort(
    (a, b) => Number(a.split('.')[1].split('-')[0]) - Number(b.split('.')[1].split('-')[0]),
  );
  // zcat reads them: the standard gzip tool is the judge.
  return {
    text: execFileSync(
      'zcat',
      files.map((f) => join(adir, f)),
      { maxBuffer: 1 << 30 },
    ).toString('utf8'),
    files: files.length,
  };
}
let failed = false;
try {
  for (const [kind, extra] of [
    ['fast', {}],
    ['fast', { archive_where: 'b' }],
    ['bench', {}],
    ['types', {}],
    ['types', { archive_format: 'csv' }],
    ['types', { archive_where: 'b' }],
  ]) {
    await seed(kind);
    const a = await run(resolve(oldDist), kind, extra);
    await seed(kind);
    const b = await run(resolve(newDist), kind, extra);
    const same = a.text === b.text;
    if (!same) failed = true;
    console.log(
      `${kind} ${JSON.stringify(extra)}: ${a.text.length} chars in ${a.files} files before, ${b.text.length} in ${b.files} after: ${same ? 'identical' : 'DIFFERENT'}`,
    );
  }
} finally {
  await c.end();
  await admin.query(`DROP DATABASE ${dbn} WITH (FORCE)`);
  await admin.end();
}
process.exitCode = failed ? 1 : 0;
