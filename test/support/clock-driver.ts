/**
 * The one way a test moves time: advance a ManualClock and let the work it wakes settle, instead
 * of sleeping. `settle` runs the pending promise chains and I/O callbacks (event-loop turns, no
 * timer); `advance`/`advanceTo` fire due timers one at a time, settling after each; `drive`
 * runs a piece of work that waits on the clock to its end, stepping from timer to timer once its
 * real I/O (processes, sockets, a database) has had its say.
 */
import type { ManualClock } from '../../src/engine/clock.js';

/** Lets pending promise chains and ready I/O callbacks run: 30 turns of the event loop. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
}

/** Moves the clock by `ms`, firing each due timer in turn and settling after each. */
export function advance(clock: ManualClock, ms: number): Promise<void> {
  return clock.advanceToAsync(clock.now() + ms, settle);
}

export function advanceTo(clock: ManualClock, t: number): Promise<void> {
  return clock.advanceToAsync(t, settle);
}

/** Real-time polling for real I/O, bounded: the step a driver takes between two looks. */
const POLL_MS = 2;

/**
 * Waits (real time, bounded) until the clock has a timer pending and the set of pending timers
 * has stayed the same for `quietMs`: the work has armed its next wait and is idle.
 * Returns the soonest due instant.
 */
export async function nextTimer(
  clock: ManualClock,
  opts: { quietMs?: number; timeoutMs?: number; until?: () => boolean } = {},
): Promise<number | undefined> {
  const quietMs = opts.quietMs ?? 15;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last = '';
  let since = Date.now();
  for (;;) {
    await settle();
    if (opts.until?.()) return undefined;
    const pending = clock.pending();
    const key = pending.join(',');
    if (key !== last) {
      last = key;
      since = Date.now();
    } else if (pending.length > 0 && Date.now() - since >= quietMs) return pending[0];
    if (Date.now() > deadline)
      throw new Error(`the work neither finished nor armed a timer within ${opts.timeoutMs ?? 10_000}ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export interface Driven<T> {
  readonly value: T;
  /** Each wait the work asked for, in ms of the manual clock, in order. */
  readonly waits: number[];
}

/**
 * Runs `work` to its end on a manual clock: whenever it is idle waiting on a timer, moves the
 * clock to that timer. Rejects when the work rejects.
 */
export async function drive<T>(
  clock: ManualClock,
  work: Promise<T>,
  opts: { quietMs?: number } = {},
): Promise<Driven<T>> {
  let done = false;
  work.then(
    () => (done = true),
    () => (done = true),
  );
  const waits: number[] = [];
  for (;;) {
    const next = await nextTimer(clock, { quietMs: opts.quietMs, until: () => done });
    if (next === undefined) break;
    waits.push(next - clock.now());
    clock.advanceTo(next);
  }
  return { value: await work, waits };
}
