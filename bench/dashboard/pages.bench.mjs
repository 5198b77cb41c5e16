// The dashboard at scale: 200 tasks and 1,000,000 runs in the store. Server-side render time of
// the overview (goal < 50 ms; also with the scheduler started, as the daemon serves it) and of a
// task's filtered history page (goal < 30 ms), in process through the real routes (fastify
// inject, compressed as a browser asks); and what each page weighs over the wire, with the
// scripts and styles it loads (goal: the heaviest < 150 KB). The reference, in the same run: the
// CLI commands a user would run instead (`list-tasks`, `history ID --limit 50`).
//
//   npm run build && node bench/dashboard/pages.bench.mjs [--quick]
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fillHistory } from '../core/fill-history.mjs';
import { cli, median, quick, tmp, ROOT } from '../core/support.mjs';

const { createCaretaker } = await import(join(ROOT, 'dist/index.js'));
const { buildApi } = await import(join(ROOT, 'dist/server/api.js'));

const runs = quick ? 100_000 : 1_000_000;
const taskCount = 200;
const dir = tmp('ct-bench-dash-');
const tasks = Array.from(
  { length: taskCount },
  (_, i) =>
    `  t${i}: { action: shell, schedule: "${i % 60} * * * *", ${i % 10 === 9 ? `depends_on: [t${i - 1}], ` : ''}with: { command: "true" } }`,
).join('\n');
// Runs kept per task above the 5,000 each gets: the daemon started below prunes nothing.
writeFileSync(
  join(dir, 'caretaker.yaml'),
  `version: 1\nhistory: { keep_runs_per_task: 10000 }\ntasks:\n${tasks}\n`,
);
const t0 = performance.now();
await fillHistory(join(dir, '.caretaker', 'caretaker.db'), {
  runs,
  taskIds: Array.from({ length: taskCount }, (_, i) => `t${i}`),
  days: 90,
});
console.log(
  `filled ${runs.toLocaleString('en')} runs of ${taskCount} tasks in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

const ct = createCaretaker({ configPath: join(dir, 'caretaker.yaml') });
const app = buildApi(ct, { listener: 'socket' });
const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString().slice(0, 10);
const pages = [
  ['overview', '/'],
  ['task, history filtered by status and trigger', '/tasks/t42?status=success&trigger=schedule'],
  ['task, history filtered by status and date', `/tasks/t42?status=failed&from=${tenDaysAgo}`],
  ['task, unfiltered', '/tasks/t42'],
  ['timeline, 24 h', '/timeline'],
  ['dependencies', '/dependencies'],
  ['incidents', '/incidents'],
  ['health', '/health'],
];
// As a browser asks: the server compresses (@fastify/compress), the sizes are what it sends.
const GZIP = { 'accept-encoding': 'gzip' };
const unpack = (r) =>
  (r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.rawPayload) : r.rawPayload).toString();
const assets = {};
for (const name of ['dashboard.css', 'dashboard.js', 'uPlot.iife.min.js', 'uPlot.min.css'])
  assets[name] = (await app.inject({ url: `/assets/${name}`, headers: GZIP })).rawPayload.length;

const loadBefore = loadavg()[0];
const rows = [];
for (const [name, url] of pages) {
  let body = '';
  let gz = 0;
  const samples = [];
  for (let i = 0; i < 12; i++) {
    const t = performance.now();
    const r = await app.inject({ url, headers: GZIP });
    const ms = performance.now() - t;
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
    body = unpack(r);
    gz = r.rawPayload.length;
    if (i >= 2) samples.push(ms); // the first two warm the page cache and the JIT
  }
  const html = gz;
  const loads = Object.keys(assets).filter((a) => body.includes(`/assets/${a}`));
  const wire = html + loads.reduce((s, a) => s + assets[a], 0);
  rows.push({ name, url, ms: median(samples), html: body.length, gz: html, wire });
}
// What the overview's time goes to, in process: each read it makes, median of 10 after 2.
const part = async (fn) => {
  const samples = [];
  for (let i = 0; i < 12; i++) {
    const t = performance.now();
    await fn();
    if (i >= 2) samples.push(performance.now() - t);
  }
  return median(samples);
};
const taskIds = ct.config.tasks.map((t) => t.id);
const parts = {
  'tasks()': await part(() => ct.tasks()),
  'metrics(7)': await part(() => ct.metrics(7)),
  'lastRuns (every task, 30 each)': await part(() => ct.lastRuns({ tasks: taskIds, limit: 30 })),
  'history per task (the 200 queries it replaced)': await part(() =>
    Promise.all(taskIds.map((task) => ct.history({ task, limit: 30 }))),
  ),
};
await app.close();
await ct.close();

// The overview as the daemon serves it: with the scheduler started, tasks() reads the engine's
// timers and its cached recent runs instead of working out each task's priority from the store.
// (The hourly schedules fire a few `true` runs meanwhile, as in a real daemon.)
const daemon = createCaretaker({ configPath: join(dir, 'caretaker.yaml') });
await daemon.start();
const daemonApp = buildApi(daemon, { listener: 'socket' });
const daemonOverview = await part(async () => {
  const r = await daemonApp.inject({ url: '/', headers: GZIP });
  if (r.statusCode !== 200) throw new Error(`/: ${r.statusCode} ${r.body.slice(0, 200)}`);
});
const daemonTasks = await part(() => daemon.tasks());
await daemonApp.close();
await daemon.stop();
await daemon.close();

const wall = (args) => median(Array.from({ length: 5 }, () => cli(args, dir).ms));
const listTasks = wall(['list-tasks', '--json']);
const history = wall(['history', 't42', '--limit', '50', '--json']);
const loadAfter = loadavg()[0];

console.log(
  `\n| page | server-side, median of 10 | HTML | HTML as sent (gzip) | over the wire, with its assets |`,
);
console.log(`| --- | --- | --- | --- | --- |`);
for (const r of rows)
  console.log(
    `| ${r.name} (\`${r.url}\`) | ${r.ms.toFixed(1)} ms | ${(r.html / 1024).toFixed(0)} KB | ${(r.gz / 1024).toFixed(1)} KB | ${(r.wire / 1024).toFixed(1)} KB |`,
  );
const overview = rows[0].ms;
const task = rows[1].ms;
console.log(
  `\nreference, same run: caretaker list-tasks --json ${listTasks.toFixed(0)} ms, caretaker history t42 --limit 50 --json ${history.toFixed(0)} ms (whole commands, median of 5)`,
);
console.log(
  `ratio: overview / list-tasks ${(overview / listTasks).toFixed(2)}×; filtered task page / history ${(task / history).toFixed(2)}×`,
);
console.log(
  `goals: overview < 50 ms: ${overview < 50 ? 'yes' : 'no'} (${overview.toFixed(1)} ms); filtered history page < 30 ms: ${task < 30 ? 'yes' : 'no'} (${task.toFixed(1)} ms); heaviest page < 150 KB: ${Math.max(...rows.map((r) => r.wire)) < 150 * 1024 ? 'yes' : 'no'} (${(Math.max(...rows.map((r) => r.wire)) / 1024).toFixed(1)} KB)`,
);
console.log(
  `overview's reads: ${Object.entries(parts)
    .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
    .join('; ')}`,
);
console.log(
  `overview with the scheduler started (as the daemon serves it): ${daemonOverview.toFixed(1)} ms (tasks() ${daemonTasks.toFixed(1)} ms): goal < 50 ms: ${daemonOverview < 50 ? 'yes' : 'no'}`,
);
console.log(`load average (1 min) ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after`);
