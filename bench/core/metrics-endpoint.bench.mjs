// GET /metrics of a running daemon with 200 tasks and 1,000,000 runs in its SQLite store (goal:
// < 50 ms). Scraped over TCP loopback the way Prometheus does, one request at a time, after a
// warm-up. References in the same run: `sqlite3` counting the same runs by task and status (what
// a user would otherwise put in a cron job for node_exporter's textfile collector), and the same
// GROUP BY query in-process (better-sqlite3 / node:sqlite through the store's own driver).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fillHistory } from './fill-history.mjs';
import { BIN, ROOT, median, percentile, quick, startDaemon, tmp, waitFor } from './support.mjs';

const runs = quick ? 100_000 : 1_000_000;
const taskCount = 200;
const scrapes = quick ? 20 : 100;
const dir = tmp('ct-bench-metrics-');
mkdirSync(join(dir, 'data'));
writeFileSync(join(dir, 'data', 'a.txt'), 'x');

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});

// 200 tasks, of which 10 health, 10 backup and 10 verify-backups tasks (the metrics read each
// one's latest run); schedules that do not fire during the bench.
const actionOf = (i) =>
  i < 10
    ? `action: health, with: { disk: [{ path: "${dir}" }] }`
    : i < 20
      ? `action: backup, with: { paths: [data], dest: archives }`
      : i < 30
        ? `action: verify-backups, with: { dest: archives }`
        : `action: shell, with: { command: "true" }`;
const tasks = Array.from(
  { length: taskCount },
  (_, i) => `  t${i}: { ${actionOf(i)}, schedule: "${i % 60} 3 1 1 *" }`,
).join('\n');
writeFileSync(
  join(dir, 'caretaker.yaml'),
  `version: 1\nhost: bench\nhistory: { keep_days: 365, keep_runs_per_task: 100000 }\nserver: { listen: "127.0.0.1:${port}" }\ntasks:\n${tasks}\n`,
);

const t0 = performance.now();
const db = join(dir, '.caretaker', 'caretaker.db');
await fillHistory(db, { runs, taskIds: Array.from({ length: taskCount }, (_, i) => `t${i}`), days: 90 });
const fillS = (performance.now() - t0) / 1000;

const daemon = startDaemon(join(dir, 'caretaker.yaml'));
const url = `http://127.0.0.1:${port}/metrics`;
try {
  await waitFor(async () => (await fetch(url).catch(() => null))?.ok === true, 60_000);
  const scrape = async () => {
    const t = performance.now();
    const res = await fetch(url);
    const text = await res.text();
    return { ms: performance.now() - t, text };
  };
  for (let i = 0; i < 10; i++) await scrape(); // warm-up: statements prepared, pages cached
  const times = [];
  let text = '';
  for (let i = 0; i < scrapes; i++) {
    const s = await scrape();
    times.push(s.ms);
    text = s.text;
  }
  const counted = text
    .split('\n')
    .filter((l) => l.startsWith('caretaker_task_runs_total{'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  if (counted !== runs) throw new Error(`/metrics counts ${counted} runs, the store holds ${runs}`);

  // The references, same run, same machine.
  const countSql = `SELECT task, status, count(*) FROM runs WHERE finished_at IS NOT NULL AND dry_run = 0 GROUP BY task, status;`;
  const sqliteCli = [];
  const hasSqlite3 = spawnSync('sqlite3', ['-version']).status === 0;
  if (hasSqlite3)
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      const r = spawnSync('sqlite3', ['-readonly', db, countSql], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      sqliteCli.push(performance.now() - t);
    }
  // The same text built in-process (no HTTP, no engine: next runs and running left out).
  const { createCaretaker } = await import(join(ROOT, 'dist/index.js'));
  const ct = createCaretaker({ configPath: join(dir, 'caretaker.yaml'), readonly: true });
  for (let i = 0; i < 10; i++) await ct.prometheusMetrics();
  const built = [];
  for (let i = 0; i < scrapes; i++) {
    const t = performance.now();
    await ct.prometheusMetrics();
    built.push(performance.now() - t);
  }
  await ct.close();
  const { openSqlite } = await import(join(ROOT, 'dist/store/sqlite/driver.js'));
  const conn = openSqlite(db, { readonly: true });
  const query = conn.prepare(countSql);
  const inProcess = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    query.all();
    inProcess.push(performance.now() - t);
  }
  conn.close();

  const p50 = median(times);
  const p95 = percentile(times, 0.95);
  console.log(
    `${runs.toLocaleString('en')} runs of ${taskCount} tasks over 90 days (filled in ${fillS.toFixed(1)} s); ${scrapes} scrapes of ${(text.length / 1024).toFixed(0)} KB, ${text.split('\n').length} lines.\n`,
  );
  console.log('| measure | median | p95 | ratio to /metrics | goal |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| GET /metrics over TCP loopback | ${p50.toFixed(1)} ms | ${p95.toFixed(1)} ms | 1 | < 50 ms |`,
  );
  console.log(
    `| the same text built in-process (store reads + writer, no HTTP) | ${median(built).toFixed(1)} ms | ${percentile(built, 0.95).toFixed(1)} ms | | |`,
  );
  if (hasSqlite3) {
    const m = median(sqliteCli);
    console.log(
      `| \`sqlite3\` counting the same runs by task and status (new process) | ${m.toFixed(1)} ms | ${percentile(sqliteCli, 0.95).toFixed(1)} ms | ${(m / p50).toFixed(1)}× slower | |`,
    );
  }
  const q = median(inProcess);
  console.log(
    `| the same GROUP BY in-process, no process start | ${q.toFixed(1)} ms | ${percentile(inProcess, 0.95).toFixed(1)} ms | ${(q / p50).toFixed(1)}× slower | |`,
  );
  console.log('');
} finally {
  spawnSync(process.execPath, [BIN, 'stop', '-c', join(dir, 'caretaker.yaml')]);
  daemon.kill();
  rmSync(dir, { recursive: true, force: true }); // a million runs and their WAL: gigabytes
}
