/**
 * A health task with 50 HTTP checks against a local server whose routes answer after 0-500 ms
 * (--quick: 20 checks, 0-200 ms). Checks run concurrently, so the task's wall time should stay
 * close to the slowest single check; the alternative a user would script — `curl` each URL in
 * turn from cron — takes the sum of the delays.
 * Usage: npm run build && node bench/health/http-checks.bench.mjs [--quick]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCaretaker } from '../../dist/index.js';
import { machineLine, ms } from './machine.mjs';

const exec = promisify(execFile);
const quick = process.argv.includes('--quick');
const N = quick ? 20 : 50;
const MAX_DELAY = quick ? 200 : 500;
const delayOf = (i) => Math.round((MAX_DELAY * i) / (N - 1));

const server = createServer((req, res) => {
  const i = Number(req.url.split('/')[2]);
  setTimeout(
    () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'),
    delayOf(i),
  );
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const dir = mkdtempSync(join(tmpdir(), 'ct-bench-health-'));
const checks = Array.from(
  { length: N },
  (_, i) => `        - { name: r${i}, url: "${base}/r/${i}", json: { path: status, equals: ok } }`,
).join('\n');
writeFileSync(
  join(dir, 'caretaker.yaml'),
  `version: 1\ntasks:\n  web:\n    action: health\n    with:\n      http:\n${checks}\n`,
);

console.log(machineLine());
const rounds = quick ? 3 : 5;
const rows = [];
const ct = createCaretaker({ configPath: join(dir, 'caretaker.yaml') });
for (let round = 1; round <= rounds; round++) {
  const t0 = performance.now();
  const run = await ct.runNow('web');
  const wall = performance.now() - t0;
  if (run.status !== 'success') throw new Error(`health run ${run.status}: ${run.result?.summary}`);
  const slowestCheck = Math.max(...run.result.details.checks.map((c) => c.value));
  // The same URLs with curl, one after another (what a cron script does).
  const urls = Array.from({ length: N }, (_, i) => `${base}/r/${i}`);
  const c0 = performance.now();
  // Awaited, not sync: the server answering them lives in this process.
  for (const u of urls) await exec('curl', ['-s', '-o', '/dev/null', '--max-time', '30', u]);
  const curl = performance.now() - c0;
  rows.push({ round, wall, slowestCheck, curl });
}
await ct.close();
server.close();
rmSync(dir, { recursive: true, force: true });

const sumDelays = Array.from({ length: N }, (_, i) => delayOf(i)).reduce((a, b) => a + b, 0);
console.log(
  `\n### health task with ${N} HTTP checks (server delays 0-${MAX_DELAY} ms)${quick ? ' (--quick)' : ''}\n`,
);
console.log(
  '| round | caretaker health (wall) | slowest single check | wall / slowest | curl one by one | caretaker / curl |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.round} | ${ms(r.wall)} | ${ms(r.slowestCheck)} | ${(r.wall / r.slowestCheck).toFixed(2)}x | ${ms(r.curl)} | ${(r.wall / r.curl).toFixed(3)}x |`,
  );
const best = rows.slice(1).reduce((a, b) => (b.wall < a.wall ? b : a), rows[rows.length - 1]);
console.log(
  `\nsum of the server delays (a sequential lower bound): ${ms(sumDelays)}; best round after warm-up: ${ms(best.wall)} = ${(best.wall / best.slowestCheck).toFixed(2)}x the slowest check (goal: close to 1x).`,
);
