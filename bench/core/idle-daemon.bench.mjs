// An idle daemon with 200 tasks on hourly-or-slower schedules and a full history (1,000 runs per
// task, history.keep_runs_per_task's default; --fresh: an empty store): CPU time and memory.
// Goals: private memory (RssAnon) < 30 MB; CPU < 50 ms over the first minute after it is ready
// (answers on its control socket), < 10 ms over the minute after that.
// RSS counts the node binary's file-backed pages, shared with every other node process; RssAnon
// is what this daemon alone costs the machine.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLine, machineLine } from '../support/machine.mjs';
import { fillHistory } from './fill-history.mjs';
import { cpuMs, quick, sleep, startDaemon, tmp, waitFor } from './support.mjs';
import { memoryOf } from './proc-memory.mjs';

// The machine is shared: the load before the run is printed with the result, next to the one after.
const loadBefore = loadLine();
const dir = tmp('ct-bench-idle-');
const minute = new Date().getUTCMinutes();
const tasks = Array.from({ length: 200 }, (_, i) => {
  // Hourly at minutes that are at least 5 minutes away, daily and weekly ones: nothing fires now.
  const m = (minute + 5 + (i % 50)) % 60;
  const schedule =
    i % 3 === 0 ? `${m} * * * *` : i % 3 === 1 ? `${m} ${i % 24} * * *` : `${m} 4 * * ${i % 7}`;
  return `  t${i}: { action: shell, schedule: "${schedule}", with: { command: "true" } }`;
});
writeFileSync(join(dir, 'caretaker.yaml'), `version: 1\ntasks:\n${tasks.join('\n')}\n`);
const fresh = process.argv.includes('--fresh');
const history = fresh ? 0 : 200 * 1000;
if (!fresh) {
  const taskIds = Array.from({ length: 200 }, (_, i) => `t${i}`);
  await fillHistory(join(dir, '.caretaker', 'caretaker.db'), { runs: history, taskIds });
}
const daemon = startDaemon(join(dir, 'caretaker.yaml'));
await waitFor(() => existsSync(join(dir, '.caretaker', 'control.sock')));
const startup = { used: cpuMs(daemon.pid), mem: memoryOf(daemon.pid) };
const windowS = quick ? 10 : 60;
const windows = [];
for (const label of ['first window after it is ready', 'next window (steady state)']) {
  const before = cpuMs(daemon.pid);
  await sleep(windowS * 1_000);
  windows.push({ label, used: cpuMs(daemon.pid) - before, mem: memoryOf(daemon.pid) });
}
daemon.kill('SIGTERM');
await new Promise((r) => daemon.on('exit', r));

const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;
console.log(
  `Load average before: ${loadBefore}; ${machineLine()}; ${history.toLocaleString('en')} runs in the store.\n`,
);
console.log('| measure | value | goal |');
console.log('|---|---|---|');
console.log(`| CPU until ready (start-up: load, config, store, first timers) | ${startup.used} ms | |`);
const goals = ['< 50 ms per 60 s', '< 10 ms per 60 s'];
windows.forEach((w, i) =>
  console.log(
    `| CPU, ${w.label}, ${windowS} s (200 idle tasks) | ${w.used} ms (${((w.used * 60) / windowS).toFixed(0)} ms per minute) | ${goals[i]} |`,
  ),
);
for (const [label, m] of [
  ['when ready', startup.mem],
  ...windows.map((w) => [`after the ${w.label}`, w.mem]),
])
  console.log(
    `| memory ${label}: private (RssAnon) / file-backed / RSS | ${mb(m.anon)} / ${mb(m.file)} / ${mb(m.rss)} | private < 30 MB |`,
  );
console.log('\n/proc counts CPU in 10 ms ticks.\n');
