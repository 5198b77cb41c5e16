/**
 * An idle daemon running a health task every minute (disk, memory, load, cpu, tcp, 5 HTTP checks
 * against a local server) must stay under 1% of one CPU. Measured from /proc: the daemon's CPU
 * time over the window, after its start-up. Compared with what cron would spend running the
 * equivalent shell script (df, free, /proc/loadavg, bash /dev/tcp, curl) as often.
 * Full: 5 minutes, every minute. --quick: 45 s with the task every 15 s (4x the work).
 * Usage: npm run build && node bench/health/idle-daemon.bench.mjs [--quick]
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { cpuMsOf, machineLine, ms } from './machine.mjs';

const exec = promisify(execFile);
const quick = process.argv.includes('--quick');
const WINDOW_MS = quick ? 45_000 : 300_000;
const SCHEDULE = quick ? '*/15 * * * * *' : '* * * * *';
const PER_MINUTE = quick ? 4 : 1;
const BIN = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const sleep = (t) => new Promise((r) => setTimeout(r, t));

const http = createServer((_q, res) => res.writeHead(200).end('{"status":"ok"}'));
await new Promise((r) => http.listen(0, '127.0.0.1', r));
const tcp = createTcp((s) => s.end());
await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
const hp = http.address().port;
const tp = tcp.address().port;

const dir = mkdtempSync(join(tmpdir(), 'ct-bench-idle-'));
const urls = Array.from({ length: 5 }, (_, i) => `http://127.0.0.1:${hp}/s${i}`);
writeFileSync(
  join(dir, 'caretaker.yaml'),
  `version: 1
log: { level: warn }
tasks:
  health:
    action: health
    schedule: "${SCHEDULE}"
    with:
      disk: { path: / }
      memory: {}
      load: {}
      cpu: { sample: 200ms }
      tcp: { port: ${tp} }
      http:
${urls.map((u) => `        - { url: "${u}" }`).join('\n')}
`,
);

console.log(machineLine());
const child = spawn(process.execPath, [BIN, 'start', '-c', join(dir, 'caretaker.yaml')], {
  stdio: 'ignore',
  env: { ...process.env, CARETAKER_DAEMON_CHILD: '1' },
});
const deadline = Date.now() + 30_000;
while (!existsSync(join(dir, '.caretaker', 'heartbeat.json'))) {
  if (Date.now() > deadline) throw new Error('the daemon did not start');
  await sleep(100);
}
await sleep(2_000); // let start-up settle: it is not what is measured
const cpu0 = cpuMsOf(child.pid);
const t0 = performance.now();
await sleep(WINDOW_MS);
const cpu1 = cpuMsOf(child.pid);
const wall = performance.now() - t0;
const { stdout } = await exec(process.execPath, [
  BIN,
  'history',
  'health',
  '--json',
  '--limit',
  '1000',
  '-c',
  join(dir, 'caretaker.yaml'),
]);
const runs = JSON.parse(stdout).filter((r) => r.startedAt !== null && r.startedAt >= Date.now() - wall);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));

// The cron alternative: the same checks as a shell script, run as often.
const script = join(dir, 'checks.sh');
writeFileSync(
  script,
  `#!/bin/bash
df -P / > /dev/null
free -b > /dev/null
cat /proc/loadavg > /dev/null
head -1 /proc/stat > /dev/null; sleep 0.2; head -1 /proc/stat > /dev/null
timeout 5 bash -c '</dev/tcp/127.0.0.1/${tp}'
${urls.map((u) => `curl -s -o /dev/null --max-time 5 ${u}`).join('\n')}
`,
);
const scriptRuns = 5;
let scriptCpu = 0;
for (let i = 0; i < scriptRuns; i++) {
  const { stderr } = await exec('/usr/bin/time', ['-f', '%U %S', 'bash', script]);
  const [u, s] = stderr.trim().split('\n').pop().split(' ').map(Number);
  scriptCpu += (u + s) * 1000;
}
http.close();
tcp.close();
rmSync(dir, { recursive: true, force: true });

const usedMs = cpu1 - cpu0;
const pct = (usedMs / wall) * 100;
const cronPct = ((scriptCpu / scriptRuns) * PER_MINUTE * (wall / 60_000) * 100) / wall;
console.log(
  `\n### idle daemon, health every ${quick ? '15 s' : 'minute'} (11 checks), ${ms(wall)} window${quick ? ' (--quick)' : ''}\n`,
);
console.log('| what | CPU time in window | CPU % of one core | health runs |');
console.log('|---|---|---|---|');
console.log(`| caretaker daemon | ${ms(usedMs)} | ${pct.toFixed(3)}% | ${runs.length} |`);
console.log(
  `| cron + shell script (same checks, same rate) | ${ms((scriptCpu / scriptRuns) * PER_MINUTE * (wall / 60_000))} | ${cronPct.toFixed(3)}% | (${ms(scriptCpu / scriptRuns)} CPU per run) |`,
);
console.log(
  `\ncaretaker / cron script: ${(pct / cronPct).toFixed(2)}x; goal: under 1% — ${pct < 1 ? 'met' : 'NOT met'}.`,
);
