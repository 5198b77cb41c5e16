// The fleet's history at 10,000,000 runs on PostgreSQL: 200 tasks on 30 hosts over 90 days,
// written straight with generate_series (and the daily rollup the store keeps beside them),
// then the reads a person makes, in-process through the real PgStore: `metrics --days 30`
// (goal < 200 ms), the newest runs, one task's, one host's, the last failures, a host's active
// runs and task state. The reference is the same query as plain SQL on a pg connection.
//   node bench/fleet/history-10m.bench.mjs [--runs N] [--keep]   (CARETAKER_BENCH_PG_URL to override)
import { join, resolve } from 'node:path';
import pg from 'pg';

const ROOT = resolve(import.meta.dirname, '..', '..');
const URL = process.env.CARETAKER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 10_000_000);
const TASKS = 200;
const HOSTS = 30;
const DAYS = 90;
const schema = 'ct_bench_history10m';
const { PgStore } = await import(join(ROOT, 'dist/store/postgres/pg-store.js'));
const { computeMetrics } = await import(join(ROOT, 'dist/report/metrics.js'));

const client = new pg.Client({ connectionString: URL });
await client.connect();
const now = Date.UTC(2026, 11, 3);
const today = Math.floor(now / 86_400_000);
const span = DAYS * 86_400_000;

const have = await client
  .query(`SELECT count(*)::bigint AS n FROM "${schema}".runs`)
  .then((r) => Number(r.rows[0].n))
  .catch(() => 0);
if (have !== RUNS) {
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  // The store creates its schema and indexes; the rows go in with the indexes in place, as in life.
  await (await PgStore.open({ url: URL, schema })).close();
  const t = performance.now();
  const batch = 1_000_000;
  for (let from = 1; from <= RUNS; from += batch) {
    const to = Math.min(RUNS, from + batch - 1);
    await client.query(
      `INSERT INTO "${schema}".runs (task, host, trigger, scheduled_for, not_before, queued_at, started_at,
         finished_at, status, attempt, exit_code, duration_ms, output_tail, dry_run, pid)
       SELECT 'task-' || (i % ${TASKS}), 'host-' || (i % ${HOSTS}), 'schedule', t, t, t, t, t + 40 + (i % 500),
         CASE WHEN i % 97 = 0 THEN 'failed' ELSE 'success' END, 1,
         CASE WHEN i % 97 = 0 THEN 1 ELSE 0 END, 40 + (i % 500), 'ok', false, 1000
       FROM (SELECT i, ${now - span}::bigint + (i::bigint * ${span} / ${RUNS}) AS t
             FROM generate_series(${from}::bigint, ${to}::bigint) AS i) g`,
    );
    process.stdout.write(`\r  ${to.toLocaleString()} runs written`);
  }
  await client.query(
    `INSERT INTO "${schema}".run_stats_daily (task, day, runs, successes, failures, total_ms, max_ms, histogram)
     SELECT task, (finished_at / 86400000)::int, count(*), count(*) FILTER (WHERE status = 'success'),
       count(*) FILTER (WHERE status = 'failed'), sum(duration_ms), max(duration_ms), '{}'::jsonb
     FROM "${schema}".runs GROUP BY 1, 2`,
  );
  await client.query(`ANALYZE "${schema}".runs`);
  console.log(`\n  written in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}

const store = await PgStore.open({ url: URL, schema });
async function time(label, fn, reference) {
  await fn(); // warm: statements prepared, pages cached
  const n = 15;
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  let ref = '';
  if (reference) {
    // The same query as plain SQL on a pg connection (psql would add ~100 ms of its own start).
    await client.query(reference);
    const r = [];
    for (let i = 0; i < 9; i++) {
      const t = performance.now();
      await client.query(reference);
      r.push(performance.now() - t);
    }
    r.sort((a, b) => a - b);
    ref = `   raw SQL ${r[4].toFixed(1)} ms (ratio ${(ms[Math.floor(n / 2)] / r[4]).toFixed(2)})`;
  }
  console.log(
    `  ${label.padEnd(38)} p50 ${ms[Math.floor(n / 2)].toFixed(1).padStart(7)} ms   max ${ms[n - 1].toFixed(1).padStart(7)} ms${ref}`,
  );
  return ms[Math.floor(n / 2)];
}

console.log(
  `history on PostgreSQL: ${RUNS.toLocaleString()} runs, ${TASKS} tasks, ${HOSTS} hosts, ${DAYS} days`,
);
const metricsMs = await time(
  'metrics --days 30 (in-process)',
  async () => computeMetrics(await store.dailyStats(today - 29), 30, today),
  `SELECT task, sum(runs), sum(successes), sum(total_ms), max(max_ms) FROM "${schema}".run_stats_daily WHERE day >= ${today - 29} GROUP BY task`,
);
await time(
  'history --limit 20',
  () => store.listRuns({ limit: 20 }),
  `SELECT * FROM "${schema}".runs ORDER BY id DESC LIMIT 20`,
);
await time(
  'history task-7 --limit 20',
  () => store.listRuns({ task: 'task-7', limit: 20 }),
  `SELECT * FROM "${schema}".runs WHERE task = 'task-7' ORDER BY id DESC LIMIT 20`,
);
await time(
  'history --host host-3 --limit 20',
  () => store.listRuns({ host: 'host-3', limit: 20 }),
  `SELECT * FROM "${schema}".runs WHERE host = 'host-3' ORDER BY id DESC LIMIT 20`,
);
await time('last failures (status)', () =>
  store.listRuns({ statuses: ['failed', 'timeout', 'interrupted'], limit: 5 }),
);
await time("a host's active runs (daemon start)", () => store.activeRuns('host-3'));
await time('recent runs of a task (priority)', () => store.recentRuns('task-7', 50));
await store.close();
console.log(`  goal: metrics --days 30 < 200 ms: ${metricsMs < 200 ? 'met' : 'NOT met'}`);
if (!process.argv.includes('--keep')) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
await client.end();
