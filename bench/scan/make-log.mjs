// Writes a synthetic application log of SIZE_MB megabytes: ISO timestamps, levels (80% INFO,
// 5% ERROR, 6% WARN/WARNING, 1% CRITICAL/FATAL…), messages of 60-120 bytes. Deterministic.
// usage: node make-log.mjs FILE SIZE_MB
import { closeSync, openSync, writeSync } from 'node:fs';

const [out, sizeMb] = process.argv.slice(2);
const target = Number(sizeMb) * 2 ** 20;
const fd = openSync(out, 'w');
let seed = 42;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const msgs = {
  INFO: [
    'GET /api/users/%d 200 %dms',
    'user %d logged in from 10.0.%d.%d',
    'cache hit ratio %d%% for shard %d',
    'job %d completed in %dms',
  ],
  DEBUG: ['sql SELECT * FROM orders WHERE id=%d took %dms', 'pool size %d idle %d'],
  WARN: ['slow request GET /api/orders/%d took %dms', 'retrying upstream call %d attempt %d'],
  WARNING: ['deprecated header X-Foo used by client %d (%d)'],
  ERROR: [
    'Connection refused to db-%d:5432 after %dms',
    'request %d failed with status 500 (%d)',
    'API key invalid for tenant %d (%d)',
  ],
  CRITICAL: ['Disk /var/data full: %d%% used (%d)'],
  FATAL: ['OOM error in worker %d (rss %dMB)'],
};
const levels = [
  ['INFO', 0.8],
  ['DEBUG', 0.08],
  ['WARN', 0.05],
  ['WARNING', 0.01],
  ['ERROR', 0.05],
  ['CRITICAL', 0.005],
  ['FATAL', 0.005],
];
let t = Date.UTC(2026, 10, 20);
let written = 0;
let parts = [];
let size = 0;
while (written < target) {
  let r = rnd();
  let level = 'INFO';
  for (const [l, p] of levels) {
    if (r < p) {
      level = l;
      break;
    }
    r -= p;
  }
  const list = msgs[level];
  const m = list[Math.floor(rnd() * list.length)].replace(/%d/g, () => String(Math.floor(rnd() * 10000)));
  t += Math.floor(rnd() * 50);
  const line = `${new Date(t).toISOString()} ${level} [svc-${Math.floor(rnd() * 8)}] ${m}\n`;
  parts.push(line);
  size += line.length;
  if (size > 1 << 20 || written + size >= target) {
    const b = Buffer.from(parts.join(''));
    writeSync(fd, b);
    written += b.length;
    parts = [];
    size = 0;
  }
}
closeSync(fd);
