/**
 * Realistic access-log text for the rotation benchmarks (ratio under gzip -6 close to a real
 * nginx access log's), deterministic, written quickly; plus machine facts for the results.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

const IPS = Array.from({ length: 300 }, (_, i) => `10.${(i * 7) % 256}.${(i * 13) % 256}.${(i * 31) % 256}`);
const PATHS = [
  '/',
  '/health',
  '/api/v1/users',
  '/api/v1/orders',
  '/api/v1/items',
  '/static/app.js',
  '/static/app.css',
  '/login',
  '/api/v1/search',
];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'curl/8.5.0',
  'Go-http-client/1.1',
  'kube-probe/1.29',
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Writes `bytes` of access-log lines to `file` (skipped when it already has that size). */
export function writeLog(file, bytes, seed = 1) {
  if (existsSync(file) && statSync(file).size === bytes) return;
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  let t = Date.UTC(2026, 10, 1) + seed * 1000;
  const fd = openSync(file, 'w');
  let written = 0;
  while (written < bytes) {
    let chunk = '';
    for (let i = 0; i < 4000; i++) {
      t += Math.floor(rnd() * 40);
      const d = new Date(t);
      const ts = `${String(d.getUTCDate()).padStart(2, '0')}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;
      const status = rnd() < 0.93 ? 200 : pick([301, 304, 404, 500, 502]);
      const path = pick(PATHS) + (rnd() < 0.4 ? `?id=${Math.floor(rnd() * 5000)}` : '');
      chunk += `${pick(IPS)} - - [${ts}] "GET ${path} HTTP/1.1" ${status} ${Math.floor(rnd() * 9000) + 200} "-" "${pick(AGENTS)}" ${(rnd() * 0.3).toFixed(3)}\n`;
    }
    const buf = Buffer.from(chunk).subarray(0, Math.min(Buffer.byteLength(chunk), bytes - written));
    writeSync(fd, buf);
    written += buf.length;
  }
  closeSync(fd);
}

export function machine() {
  const cpu = cpus()[0]?.model ?? '?';
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  return {
    nproc,
    cpu,
    ramGiB: (totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

export function machineLine() {
  const m = machine();
  return `machine: ${m.nproc} cores (nproc), ${m.cpu}, ${m.ramGiB} GiB RAM, Node ${m.node}; load average at start ${m.load}`;
}

/** Wall and CPU seconds (this process, its threads included) of an in-process fn. */
export async function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

/** Wall and CPU seconds (the command and the children it waited for) of a shell command. */
export function timedCommand(command) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'sh', '-c', command], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr}`);
  return parseTime(r.stderr);
}

function parseTime(stderr) {
  const [wall, user, sys] = stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys };
}

export const fmt = (t) => `${t.wall.toFixed(2)} s (cpu ${t.cpu.toFixed(2)} s)`;
