/**
 * Fault injection for crash tests: `CARETAKER_FAULT=rotate:step:N` makes the process kill itself
 * with SIGKILL when it reaches the N-th fault point of a rotation (1-based; points sit between
 * every two filesystem changes). Read from the environment here and nowhere else; unset, a fault
 * point costs one comparison. No option in caretaker.yaml can turn it on.
 */

let target: number | undefined | null = null;
let reached = 0;

function configured(): number | undefined {
  if (target === null) {
    const m = /^rotate:step:(\d+)$/.exec(process.env.CARETAKER_FAULT ?? '');
    target = m ? Number(m[1]) : undefined;
  }
  return target;
}

/** Marks a point between two changes; under CARETAKER_FAULT it may be where the process dies. */
export function faultPoint(label: string): void {
  const n = configured();
  if (n === undefined) return;
  reached++;
  if (reached === n) {
    process.stderr.write(`CARETAKER_FAULT: killed at rotation fault point ${n} (${label})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}

/** How many fault points this process has passed (tests use it to know when to stop). */
export function faultPointsReached(): number {
  return reached;
}
