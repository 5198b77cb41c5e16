// Shared by the core benchmarks: temp dirs, the built CLI, percentiles, /proc readings.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const BIN = join(ROOT, 'dist/cli/main.js');
export const quick = process.argv.includes('--quick');
export const tmp = (p) => mkdtempSync(join(tmpdir(), p));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function percentile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export const median = (values) => percentile(values, 0.5);

/** User+system CPU time of a process in ms, from /proc (clock ticks of 10 ms). */
export function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export function cli(args, cwd) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`caretaker ${args.join(' ')} failed: ${r.stderr}`);
  return { ms: performance.now() - t, stdout: r.stdout };
}

export function startDaemon(config) {
  return spawn(process.execPath, [BIN, 'start', '-c', config], {
    stdio: 'ignore',
    env: { ...process.env, CARETAKER_DAEMON_CHILD: '1' },
  });
}

export async function waitFor(probe, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return;
    await sleep(50);
  }
  throw new Error('timed out');
}
