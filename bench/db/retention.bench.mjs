// db-retention on PostgreSQL: 1,000,000 old rows deleted in batches by caretaker, against one big
// `DELETE … WHERE ts < …` run through psql, in the same run. While each runs, a concurrent writer
// (the application) inserts new rows and updates random old rows; its worst latencies show the
// longest lock each method makes the application wait for.
//
//   npm run build && node bench/db/retention.bench.mjs [--quick] [--url postgres://postgres@127.0.0.1:5432/test]
//
// --quick: 100,000 rows (under a minute). Needs PostgreSQL and the psql client.
import { execFileSync, spawn } from 'node:child_process';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';

const dist = resolve(import.meta.dirname, '..', '..', 'dist');
const { dbRetentionAction } = await import(join(dist, 'actions', 'db-retention.js'));
const { SystemClock } = await import(join(dist, 'engine', 'clock.js'));

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const baseUrl = args.includes('--url')
  ? args[args.indexOf('--url') + 1]
  : 'postgres://postgres@127.0.0.1:5432/test';
const OLD = quick ? 100_000 : 1_000_000;
const YOUNG = OLD / 10;
const BATCH = 5_000;

function withDb(url, db) {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function client(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

async function seed(c) {
  await c.query('DROP TABLE IF EXISTS events');
  await c.query(
    `CREATE TABLE events (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, payload text NOT NULL)`,
  );
  await c.query(
    `INSERT INTO events (ts, payload)
       SELECT CASE WHEN g <= $1 THEN now() - interval '90 days' ELSE now() END, md5(g::text) || repeat('x', 100)
         FROM generate_series(1, $2::int) g`,
    [OLD, OLD + YOUNG],
  );
  await c.query('VACUUM ANALYZE events');
  await c.query('CHECKPOINT');
}

/** The application: inserts and touches old rows back to back until stopped; keeps the latencies. */
function writer(url) {
  let stop = false;
  const inserts = [];
  const updates = [];
  const done = (async () => {
    const c = await client(url);
    while (!stop) {
      let t = performance.now();
      await c.query(`INSERT INTO events (ts, payload) VALUES (now(), 'new')`);
      inserts.push(performance.now() - t);
      t = performance.now();
      await c.query(`UPDATE events SET payload = 'touched' WHERE id = $1`, [
        1 + Math.floor(Math.random() * OLD),
      ]);
      updates.push(performance.now() - t);
    }
    await c.end();
  })();
  return {
    async finish() {
      stop = true;
      await done;
      return { inserts, updates };
    },
  };
}

const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] ?? 0;
const max = (xs) => xs.reduce((m, x) => Math.max(m, x), 0);

async function caretakerRun(url, extra = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ct-bench-'));
  const ctx = {
    taskId: 'bench',
    runId: 1,
    attempt: 1,
    host: 'bench',
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    dryRun: false,
    clock: new SystemClock(),
    baseDir: dir,
    stateDir: join(dir, '.caretaker'),
    taskStateDir: join(dir, '.caretaker', 'tasks', 'bench'),
    killGraceMs: 2000,
    output: () => {},
    progress: () => {},
    snapshot: async () => {},
    history: { recent: async () => [] },
    resolvePath: (p) => resolve(dir, p),
  };
  const options = dbRetentionAction.schema.parse({
    url,
    table: 'events',
    timestamp_column: 'ts',
    older_than: '30d',
    batch: BATCH,
    ...extra,
  });
  const t = performance.now();
  const result = await dbRetentionAction.run(ctx, options);
  const ms = performance.now() - t;
  rmSync(dir, { recursive: true, force: true });
  if (!result.ok) throw new Error(result.summary);
  return {
    ms,
    deleted: result.details.deleted,
    longestBatchMs: result.details.longestBatchMs,
    retried: result.details.retriedBatches ?? 0,
  };
}

function psqlDelete(url) {
  return new Promise((resolvePromise, reject) => {
    const t = performance.now();
    const child = spawn(
      'psql',
      [
        url,
        '-v',
        'ON_ERROR_STOP=1',
        '-qAt',
        '-c',
        `DELETE FROM events WHERE ts < now() - interval '30 days'`,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`psql exited ${code}`));
      else
        resolvePromise({ ms: performance.now() - t, deleted: Number(/DELETE (\d+)/.exec(out)?.[1] ?? OLD) });
    });
  });
}

async function measure(name, url, setup, run) {
  const c = await client(url);
  await setup(c);
  await c.end();
  const w = writer(url);
  await new Promise((r) => setTimeout(r, 200)); // the writer is running before the deletion starts
  const r = await run();
  const lat = await w.finish();
  return {
    name,
    ...r,
    rowsPerSec: Math.round(r.deleted / (r.ms / 1000)),
    insertMax: max(lat.inserts),
    insertP99: p99(lat.inserts),
    updateMax: max(lat.updates),
    writes: lat.inserts.length,
  };
}

const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  ramGB: (totalmem() / 1024 ** 3).toFixed(1),
  freeGB: (freemem() / 1024 ** 3).toFixed(1),
  node: process.version,
  load: loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
};

const admin = await client(baseUrl);
const dbName = `ct_bench_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(dbName)}`);
const url = withDb(baseUrl, dbName);
const version = (await admin.query('SHOW server_version')).rows[0].server_version;
let rows;
try {
  const ours = await measure(`caretaker db-retention (batch ${BATCH})`, url, seed, () => caretakerRun(url));
  const archived = await measure(
    `caretaker db-retention (batch ${BATCH}) + archive .jsonl.gz`,
    url,
    seed,
    () => caretakerRun(url, { archive_to: 'archive' }),
  );
  const small = await measure('caretaker db-retention (batch 1000)', url, seed, () =>
    caretakerRun(url, { batch: 1_000 }),
  );
  const theirs = await measure('psql: one DELETE … WHERE ts < …', url, seed, () => psqlDelete(url));
  // The same writer with nothing else running on the table: the machine's own noise.
  const idle = await measure('(baseline: the writer alone, no deletion)', url, seed, async () => {
    await new Promise((r) => setTimeout(r, Math.max(1000, ours.ms)));
    return { ms: ours.ms, deleted: 0 };
  });
  rows = [ours, archived, small, theirs, idle];
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(dbName)} WITH (FORCE)`);
  await admin.end();
}

const f = (n) => Math.round(n).toLocaleString('en-US');
console.log(
  `\n### db-retention: deleting ${f(OLD)} of ${f(OLD + YOUNG)} rows in PostgreSQL ${version}${quick ? ' (--quick)' : ''}\n`,
);
console.log(
  '| method | rows deleted | time | rows/s | writer: worst update of an old row | writer: worst insert | writer: p99 insert | writer ops | longest batch | batches retried |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${f(r.deleted)} | ${(r.ms / 1000).toFixed(1)} s | ${r.deleted ? f(r.rowsPerSec) : '—'} | ${f(r.updateMax)} ms | ${f(r.insertMax)} ms | ${r.insertP99.toFixed(1)} ms | ${f(r.writes * 2)} | ${r.longestBatchMs === undefined ? '—' : `${f(r.longestBatchMs)} ms`} | ${r.retried === undefined ? '—' : f(r.retried)} |`,
  );
}
const [a, , , b] = rows;
const base = rows[rows.length - 1];
console.log(
  `\nRatios (caretaker batch ${BATCH} / one DELETE): throughput ${(a.rowsPerSec / b.rowsPerSec).toFixed(2)}×, ` +
    `the application's worst wait on a row lock ${(a.updateMax / b.updateMax).toFixed(3)}×. ` +
    `Worst insert: ${f(a.insertMax)} ms with caretaker, ${f(b.insertMax)} ms with one DELETE, ${f(base.insertMax)} ms with no deletion at all ` +
    `(inserts of new rows never wait for either; their spikes are the machine's).`,
);
console.log(
  `Goal: longest lock under 100 ms — ${a.updateMax < 100 ? 'met' : 'NOT met'} by the application's worst wait (${f(a.updateMax)} ms); ` +
    `longest batch transaction ${f(a.longestBatchMs)} ms (an upper bound on any row lock it held).`,
);
const arch = rows[1];
const slower = arch.ms / a.ms;
console.log(
  `Archive (issue 17): with archive ${slower.toFixed(2)}× the time without, same run (goal ≤ 1.5×: ${slower <= 1.5 ? 'met' : 'NOT met'}); ` +
    `the application's worst wait on a row lock ${f(arch.updateMax)} ms (goal < 100 ms: ${arch.updateMax < 100 ? 'met' : 'NOT met'}; ` +
    `without archive ${f(a.updateMax)} ms, with no deletion at all ${f(base.updateMax)} ms); longest batch transaction ${f(arch.longestBatchMs)} ms; ` +
    `${f(arch.retried)} batches read again after the writer changed one of their rows.`,
);
const psqlVersion = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
console.log(
  `\nMachine: ${machine.nproc} × ${machine.cpu}, ${machine.ramGB} GB RAM (${machine.freeGB} GB free), Node ${machine.node}, ` +
    `${psqlVersion}, load average at start ${machine.load} (shared with other engineers' test runs).`,
);
