// `caretaker store copy`: a host's SQLite history of 200,000 finished runs (two tasks, 90 days,
// with their daily rollups) copied into a fresh PostgreSQL schema by the real CLI, at several
// batch sizes; then the same copy again (nothing to copy), and the rollups compared.
//   node bench/fleet/store-copy.bench.mjs [--quick]   (CARETAKER_BENCH_PG_URL to override)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fillHistory } from '../core/fill-history.mjs';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'main.js');
const quick = process.argv.includes('--quick');
const URL = process.env.CARETAKER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const { PgStore } = await import(join(ROOT, 'dist/store/postgres/pg-store.js'));
const { SqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));
const total = quick ? 20_000 : 200_000;
const batches = quick ? [2000] : [500, 2000, 5000];

const dir = mkdtempSync(join(tmpdir(), 'ct-bench-copy-'));
writeFileSync(
  join(dir, 'caretaker.yaml'),
  'version: 1\ntasks:\n  a: { action: shell, with: { command: "true" } }\n',
);
const db = join(dir, '.caretaker', 'caretaker.db');
await fillHistory(db, { runs: total, taskIds: ['backup', 'rotate'], days: 90 });

function copy(schema, batch) {
  const t = performance.now();
  const r = spawnSync(
    process.execPath,
    [BIN, 'store', 'copy', '--to', URL, '--schema', schema, '--batch', String(batch), '--json'],
    {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CARETAKER_CONFIG: '' },
    },
  );
  if (r.status !== 0) throw new Error(`store copy exited ${r.status}: ${r.stderr}`);
  return { wall: (performance.now() - t) / 1000, report: JSON.parse(r.stdout) };
}

const source = new SqliteStore(db, { readonly: true });
const sourceStats = JSON.stringify(await source.dailyStats(0));
await source.close();

console.log(
  '| runs | batch (runs per transaction) | copy s (CLI, wall) | runs/s | again: s | again: runs copied | rollup equal |',
);
console.log('|---|---|---|---|---|---|---|');
try {
  for (const batch of batches) {
    const schema = `ct_bench_copy_${process.pid}_${batch}`;
    try {
      const first = copy(schema, batch);
      const again = copy(schema, batch);
      const pg = await PgStore.open({ url: URL, schema });
      const equal = JSON.stringify(await pg.dailyStats(0)) === sourceStats;
      await pg.sql(`DROP SCHEMA $S CASCADE`);
      await pg.close();
      console.log(
        `| ${first.report.copied.runs} | ${batch} | ${first.wall.toFixed(2)} | ${Math.round(first.report.copied.runs / first.wall)} | ${again.wall.toFixed(2)} | ${again.report.copied.runs} | ${equal ? 'yes' : 'NO'} |`,
      );
    } catch (err) {
      const pg = await PgStore.open({ url: URL, schema });
      await pg.sql(`DROP SCHEMA IF EXISTS $S CASCADE`).catch(() => {});
      await pg.close();
      throw err;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  '\nWall time of the whole CLI process (start-up, opening both stores, runs, task states, rollup merge). Source: SQLite, 2 tasks over 90 days; target: local PostgreSQL, a fresh schema per row.',
);
