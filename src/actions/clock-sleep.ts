/** Waiting inside an action: on the run's clock (so tests drive it) and cut short by its abort. */
import type { Clock } from '../core/clock.js';

/** Resolves after `ms` on `clock`, or at once (resolving, not throwing) when `signal` aborts. */
export function sleepOn(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clock.clearTimer(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimer(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
