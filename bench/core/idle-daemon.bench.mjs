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
await sleep(3_000); // start-up work (JIT, first prune) is not idling
const windowS = quick ? 10 : 60;
const before = cpuMs(daemon.pid);
await sleep(windowS * 1_000);
const used = cpuMs(daemon.pid) - before;
const rss = rssMb(daemon.pid);
daemon.kill('SIGTERM');
await new Promise((r) => daemon.on('exit', r));

const perMinute = (used * 60) / windowS;
console.log('| measure | value | goal |');
console.log('|---|---|---|');
console.log(
  `| CPU over ${windowS} s (200 idle tasks) | ${used} ms (${perMinute.toFixed(0)} ms per minute) | < 50 ms per 60 s |`,
);
console.log(`| RSS | ${rss.toFixed(1)} MB | < 80 MB |`);
console.log(`\n/proc counts CPU in 10 ms ticks: ${used} ms means ${used / 10} ticks.\n`);
