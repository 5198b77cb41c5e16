/** Machine facts recorded with every benchmark result (the machine is shared: note the load). */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

export function machine() {
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // not coreutils
  }
  return {
    nproc,
    cpu: cpus()[0]?.model ?? 'unknown',
    ramGB: (totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    load: loadavg()
      .map((l) => l.toFixed(2))
      .join(' / '),
  };
}

export function machineLine() {
  const m = machine();
  return `machine: ${m.nproc} CPUs (${m.cpu}), ${m.ramGB} GB RAM, Node ${m.node}; load average ${m.load} (1/5/15 min)`;
}

/** CPU time (user + system, ms) a process has used so far, from /proc. */
export function cpuMsOf(pid) {
  const stat = execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' });
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ = 100
}

export const ms = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
