/** Clocks: the system clock for the daemon, a manual one for tests and simulations. */
import type { Clock, TimerHandle } from '../core/clock.js';

export type { Clock, TimerHandle } from '../core/clock.js';

// setTimeout overflows above 2^31-1 ms (about 24.8 days) and would fire at once.
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * CLOCK_MONOTONIC in milliseconds: never steps with the wall clock, and is the same clock in
 * every process of the machine (since boot), so one process can judge another's record by it.
 */
export function systemMonotonic(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

export class SystemClock implements Clock {
  #next = 1;
  readonly #timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  monotonic(): number {
    return systemMonotonic();
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    const due = Date.now() + Math.max(0, ms);
    const arm = (wait: number) => {
      this.#timers.set(
        id,
        setTimeout(() => {
          const left = due - Date.now();
          if (left > 0 && wait === MAX_TIMEOUT) return arm(Math.min(left, MAX_TIMEOUT));
          this.#timers.delete(id);
          fn();
        }, wait),
      );
    };
    arm(Math.min(Math.max(0, ms), MAX_TIMEOUT));
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const t = this.#timers.get(handle.id);
    if (t) clearTimeout(t);
    this.#timers.delete(handle.id);
  }
}

/** Lets pending promise chains and I/O callbacks run. */
async function flushIo(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
}

interface ManualTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to. `advance()` fires every timer that falls due, in order,
 * including timers set by the callbacks themselves; it moves wall and monotonic time together.
 * `stepWall()` steps the wall clock alone (an operator's `date -s`, NTP), as a real machine can:
 * timers, like the system's, keep counting in monotonic time.
 */
export class ManualClock implements Clock {
  #now: number;
  /** Monotonic minus wall time: changes only when the wall clock is stepped. */
  #monoOffset: number;
  #next = 1;
  #timers: ManualTimer[] = [];

  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
    this.#monoOffset = -this.#now;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#now + this.#monoOffset;
  }

  /**
   * Steps the wall clock by `ms` (negative: backwards) without moving monotonic time or firing
   * anything. Pending timers stay due after the same monotonic wait, as setTimeout's do.
   */
  stepWall(ms: number): void {
    this.#now += ms;
    this.#monoOffset -= ms;
    this.#timers = this.#timers.map((t) => ({ ...t, at: t.at + ms }));
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.#next++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return { id: timer.id };
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle.id);
  }

  /** Pending timers' due instants, soonest first (for assertions). */
  pending(): number[] {
    return this.#timers.map((t) => t.at).sort((a, b) => a - b);
  }

  /**
   * Moves time to `target` one timer at a time, letting asynchronous work (an engine re-arming
   * its timer after a pass) settle after each: the way to drive an engine through hours.
   */
  async advanceToAsync(target: number, settle: () => Promise<void> = flushIo): Promise<void> {
    for (;;) {
      const next = this.pending()[0];
      if (next === undefined || next > target) break;
      this.advanceTo(next);
      await settle();
    }
    this.advanceTo(target);
    await settle();
  }

  /** Moves time forward by `ms`, firing due timers synchronously. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  advanceTo(target: number): void {
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = Math.max(this.#now, target);
  }
}
