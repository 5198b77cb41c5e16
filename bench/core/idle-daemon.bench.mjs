// An idle daemon with 200 tasks on hourly-or-slower schedules: CPU time over a window and RSS.
// Goal: < 50 ms CPU over 60 s, RSS < 80 MB.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuMs, quick, rssMb, sleep, startDaemon, tmp, waitFor } from './support.mjs';

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
const daemon = startDaemon(join(dir, 'caretaker.yaml'));
await waitFor(() => existsSync(join(dir, '.caretaker', 'control.sock')));
await sleep(3_000); // start-up itself (loading, JIT, first prune) is not idling
// Two windows: the first minute after start-up still holds V8's clean-up of start-up garbage (its
// "memory reducer" runs a few GCs once allocation stops); the second is the steady state.
const windowS = quick ? 10 : 60;
const windows = [];
for (const label of ['first window after start-up', 'steady state (the window after)']) {
  const before = cpuMs(daemon.pid);
  await sleep(windowS * 1_000);
  windows.push({ label, used: cpuMs(daemon.pid) - before, rss: rssMb(daemon.pid) });
}
daemon.kill('SIGTERM');
await new Promise((r) => daemon.on('exit', r));

console.log('| measure | value | goal |');
console.log('|---|---|---|');
for (const w of windows)
  console.log(
    `| CPU, ${w.label}, ${windowS} s (200 idle tasks) | ${w.used} ms (${((w.used * 60) / windowS).toFixed(0)} ms per minute) | < 50 ms per 60 s |`,
  );
for (const w of windows)
  console.log(`| RSS at the end of the ${w.label} | ${w.rss.toFixed(1)} MB | < 80 MB |`);
console.log('\n/proc counts CPU in 10 ms ticks.\n');
