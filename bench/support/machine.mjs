// Machine facts printed with every result table: cores, CPU, RAM, Node, load.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

export function machineLine() {
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  return `${nproc} cores (nproc) × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}`;
}

/** The load average now (1 / 5 / 15 min), for a line printed before a benchmark starts. */
export function loadLine() {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
export const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
