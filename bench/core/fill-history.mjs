// Fills a store with `runs` finished runs of the given tasks, spread over `days` days up to now,
// with their daily rollups: what months of a real daemon leave behind (the engine would take hours).
import { join } from 'node:path';
import { ROOT } from './support.mjs';

const { SqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));
const { bucketOf, totalBucketOf } = await import(join(ROOT, 'dist/store/duration-histogram.js'));

export async function fillHistory(dbPath, { runs, taskIds, days = 90, now = Date.now() }) {
  const store = new SqliteStore(dbPath);
  const db = store.database;
  const insert =
    db.prepare(`INSERT INTO runs (task, host, trigger, scheduled_for, not_before, queued_at, started_at, finished_at, status, attempt, exit_code, duration_ms, output_tail, result_json, dry_run, pid)
  VALUES (?, 'bench', 'schedule', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, 0, 1)`);
  const rollups = new Map();
  const totals = new Map(); // the lifetime totals (run_totals) finishing these runs would have kept
  db.transaction(() => {
    for (let i = 0; i < runs; i++) {
      const task = taskIds[i % taskIds.length];
      const at = now - Math.floor((runs - i) * ((days * 86_400_000) / runs));
      const ok = i % 17 !== 0;
      const ms = 50 + ((i * 7919) % 5000);
      insert.run(
        task,
        at,
        at,
        at,
        at,
        at + ms,
        ok ? 'success' : 'failed',
        ok ? 0 : 1,
        ms,
        ok ? 'done\n' : 'error: x\n',
        `{"ok":${ok},"summary":"exit ${ok ? 0 : 1}"}`,
      );
      const key = `${task}|${Math.floor((at + ms) / 86_400_000)}`;
      const r = rollups.get(key) ?? { runs: 0, successes: 0, failures: 0, total: 0, max: 0, hist: {} };
      r.runs++;
      r[ok ? 'successes' : 'failures']++;
      r.total += ms;
      r.max = Math.max(r.max, ms);
      const b = bucketOf(ms);
      r.hist[b] = (r.hist[b] ?? 0) + 1;
      rollups.set(key, r);
      const tkey = `${task}|${ok ? 'success' : 'failed'}`;
      const t = totals.get(tkey) ?? { runs: 0, ms: 0, durations: {} };
      t.runs++;
      t.ms += ms;
      const tb = totalBucketOf(ms);
      t.durations[tb] = (t.durations[tb] ?? 0) + 1;
      totals.set(tkey, t);
    }
    const up = db.prepare(
      `INSERT INTO run_stats_daily (task, day, runs, successes, failures, total_ms, max_ms, histogram) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const [key, r] of rollups) {
      const [task, day] = key.split('|');
      up.run(task, Number(day), r.runs, r.successes, r.failures, r.total, r.max, JSON.stringify(r.hist));
    }
    const tot = db.prepare(
      `INSERT INTO run_totals (task, host, status, runs, missed, total_ms, durations) VALUES (?, 'bench', ?, ?, 0, ?, ?)`,
    );
    for (const [key, t] of totals) {
      const [task, status] = key.split('|');
      tot.run(task, status, t.runs, t.ms, JSON.stringify(t.durations));
    }
  });
  await store.close();
}
