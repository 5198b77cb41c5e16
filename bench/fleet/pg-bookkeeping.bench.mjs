// Run bookkeeping on PostgreSQL from one process: each run a row inserted (claiming its fire),
// started and finished (task state and daily rollup updated), straight on the store, with the
// SQLite store measured the same way in the same run. Goal: > 1,000 runs/s on PostgreSQL.
//   node bench/fleet/pg-bookkeeping.bench.mjs [--quick]   (CARETAKER_BENCH_PG_URL to override)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const quick = process.argv.includes('--quick');
const URL = process.env.CARETAKER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const { PgStore } = await import(join(ROOT, 'dist/store/postgres/pg-store.js'));
const { SqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));
const total = quick ? 2_000 : 10_000;
const lanes = 10;

async function bookkeeping(store) {
  let fire = Date.UTC(2026, 10, 24);
  const one = async (lane) => {
    const at = fire++;
    const r = await store.insertRun({
      task: `lane${lane}`,
      host: 'bench',
      trigger: 'schedule',
      scheduledFor: at,
      notBefore: at,
      queuedAt: at,
      status: 'queued',
      attempt: 1,
      dryRun: false,
      pid: process.pid,
      claimFire: true,
    });
    await store.startRun(r.id, at, process.pid);
    await store.finishRun(r.id, {
      status: 'success',
      finishedAt: at + 5,
      durationMs: 5,
      exitCode: 0,
      outputTail: 'ok',
    });
  };
  for (let i = 0; i < lanes; i++) await one(i); // warm: statements prepared
  const t = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let k = 0; k < total / lanes; k++) await one(lane);
    }),
  );
  const s = (performance.now() - t) / 1000;
  const rows = (await store.dailyStats(0)).reduce((n, d) => n + d.runs, 0);
  return { s, rows };
}

const schema = `ct_bench_${process.pid}`;
const pg = await PgStore.open({ url: URL, schema, maxConnections: lanes });
let pgResult;
try {
  pgResult = await bookkeeping(pg);
} finally {
  await pg.sql(`DROP SCHEMA $S CASCADE`).catch(() => {});
  await pg.close();
}
const dir = mkdtempSync(join(tmpdir(), 'ct-bench-pg-'));
const sqlite = new SqliteStore(join(dir, 'caretaker.db'));
const sqliteResult = await bookkeeping(sqlite);
await sqlite.close();
rmSync(dir, { recursive: true, force: true });

console.log('| store | runs | lanes | seconds | runs/s | runs counted in stats | goal |');
console.log('|---|---|---|---|---|---|---|');
for (const [name, r, goal] of [
  ['PostgreSQL (local, pool of 10)', pgResult, '> 1,000 runs/s'],
  ['SQLite (same run)', sqliteResult, ''],
])
  console.log(
    `| ${name} | ${total} | ${lanes} | ${r.s.toFixed(2)} | ${Math.round(total / r.s)} | ${r.rows} | ${goal} |`,
  );
console.log(
  '\nEach run: insert (claiming its fire), start, finish (task state and daily rollup), on the store directly.',
);
