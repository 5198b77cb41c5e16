/**
 * Fault injection for crash tests, one hook for every action (CONVENTIONS: an env-var-gated hook
 * the test sets, never a config option). `CARETAKER_FAULT=<point>:<n>` names a point and the
 * n-th time (1-based) the process reaches it:
 *
 * - `faultPoint(point)` kills the process with SIGKILL there (`rotate:step:4`: at the 4th point
 *   between two filesystem changes of a rotation);
 * - `faultPause(point, signal)` stalls there until the run is aborted, so the test can kill the
 *   process at exactly that moment (`retention:after-archive:3`: batch 3 is archived, not deleted).
 *
 * Read from the environment here and nowhere else; unset, a fault point costs one comparison.
 */

interface FaultSpec {
  readonly point: string;
  readonly n: number;
}

let spec: FaultSpec | undefined | null = null;
let reached = 0;

function configured(): FaultSpec | undefined {
  if (spec === null) {
    const m = /^(.+):(\d+)$/.exec(process.env.CARETAKER_FAULT ?? '');
    spec = m ? { point: m[1]!, n: Number(m[2]) } : undefined;
  }
  return spec;
}

/** Counts a pass of `point`; true when this pass is the one CARETAKER_FAULT names. */
function hit(point: string): FaultSpec | undefined {
  const s = configured();
  if (s === undefined || s.point !== point) return undefined;
  reached++;
  return reached === s.n ? s : undefined;
}

/** Marks a point between two changes; under CARETAKER_FAULT it may be where the process dies. */
export function faultPoint(point: string, label = point): void {
  const s = hit(point);
  if (!s) return;
  process.stderr.write(`CARETAKER_FAULT: killed at ${s.point} ${s.n} (${label})\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Marks a point; under CARETAKER_FAULT it may be where the run stalls until aborted. */
export async function faultPause(point: string, signal: AbortSignal): Promise<void> {
  const s = hit(point);
  if (!s) return;
  process.stderr.write(`CARETAKER_FAULT: stalled at ${s.point} ${s.n}\n`);
  await new Promise<void>((_resolve, reject) => {
    const keepAlive = setInterval(() => {}, 60_000); // an idle SQLite run holds no socket open
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        reject(new Error(`stalled by CARETAKER_FAULT=${s.point}:${s.n}`));
      },
      { once: true },
    );
  });
}

/** How many times this process passed the point CARETAKER_FAULT names (tests use it to know when to stop). */
export function faultPointsReached(): number {
  return reached;
}
