// History at scale: with 1,000,000 runs stored, `metrics --days 30` and `history ID --limit 50`
// (goal < 100 ms each, excluding process start) and `caretaker status` cold wall time (< 300 ms).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fillHistory } from './fill-history.mjs';
import { cli, median, quick, tmp, ROOT } from './support.mjs';

const { createCaretaker } = await import(join(ROOT, 'dist/index.js'));

const runs = quick ? 100_000 : 1_000_000;
const taskCount = 100;
const days = 90;
const dir = tmp('ct-bench-hist-');
const tasks = Array.from(
  { length: taskCount },
  (_, i) => `  t${i}: { action: shell, schedule: "${i % 60} * * * *", with: { command: "true" } }`,
).join('\n');
writeFileSync(join(dir, 'caretaker.yaml'), `version: 1\ntasks:\n${tasks}\n`);

// Fill the store directly (the engine would take hours): runs spread over 90 days, rollups alike.
const t0 = performance.now();
await fillHistory(join(dir, '.caretaker', 'caretaker.db'), {
  runs,
  taskIds: Array.from({ length: taskCount }, (_, i) => `t${i}`),
  days,
});
const fillS = (performance.now() - t0) / 1000;

// In-process query times (what the commands spend once started).
const ct = createCaretaker({ configPath: join(dir, 'caretaker.yaml') });
const timeIt = async (fn) => {
  const samples = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
};
const metricsMs = await timeIt(() => ct.metrics(30));
const historyMs = await timeIt(() => ct.history({ task: 't42', limit: 50 }));
const tasksMs = await timeIt(() => ct.tasks());
await ct.close();

// Whole commands, each a new process (cold process, warm page cache), and node's own start-up.
const wall = (args) => median(Array.from({ length: 5 }, () => cli(args, dir).ms));
const statusWall = wall(['status']);
const metricsWall = wall(['metrics', '--days', '30', '--json']);
const historyWall = wall(['history', 't42', '--limit', '50', '--json']);
const bare = median(
  Array.from({ length: 5 }, () => {
    const t = performance.now();
    spawnSync(process.execPath, ['-e', '']);
    return performance.now() - t;
  }),
);

console.log(
  `${runs.toLocaleString('en')} runs of ${taskCount} tasks over ${days} days (filled in ${fillS.toFixed(1)} s).\n`,
);
console.log('| measure | in-process | whole command (new process) | goal |');
console.log('|---|---|---|---|');
console.log(
  `| metrics --days 30 | ${metricsMs.toFixed(1)} ms | ${metricsWall.toFixed(0)} ms | < 100 ms excluding process start |`,
);
console.log(
  `| history t42 --limit 50 | ${historyMs.toFixed(1)} ms | ${historyWall.toFixed(0)} ms | < 100 ms excluding process start |`,
);
console.log(`| list of tasks with next run and priority | ${tasksMs.toFixed(1)} ms | | |`);
console.log(`| status (cold process) | | ${statusWall.toFixed(0)} ms | < 300 ms wall |`);
console.log(`| node -e '' (process start alone) | | ${bare.toFixed(0)} ms | |`);
console.log('');
