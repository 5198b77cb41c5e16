/**
 * From a schedule's fire instant to the instant a run may actually start: add the task's
 * deterministic jitter, then push into the window, then respect the cooldown. Pure.
 */
import { unitHash } from './stable-hash.js';
import { nextInside, type Window } from './window.js';

export interface Timing {
  readonly window: Window | null;
  readonly cooldownMs: number;
  readonly jitterMs: number;
}

/**
 * The jitter offset of a task on a host: the same on every fire and after every restart (so a
 * restart never reshuffles), different across hosts (so a fleet spreads out).
 */
export function jitterOffset(taskId: string, host: string, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  return Math.floor(unitHash(`${taskId}@${host}`) * jitterMs);
}

export function dueTime(
  fireAt: number,
  timing: Timing,
  jitter: number,
  lastStartedAt: number | null,
): number {
  let due = fireAt + jitter;
  for (let i = 0; i < 8; i++) {
    const before = due;
    if (timing.window) due = nextInside(due, timing.window);
    if (timing.cooldownMs > 0 && lastStartedAt !== null && due < lastStartedAt + timing.cooldownMs) {
      due = lastStartedAt + timing.cooldownMs;
    }
    if (due === before) break;
  }
  return due;
}

/**
 * Retry delay for attempt `n` (1 = the first retry): exponential from `backoffMs`, capped, with
 * ±20 % jitter derived from the key so that retries of many tasks do not align.
 */
export function retryDelay(n: number, backoffMs: number, maxBackoffMs: number, key: string): number {
  const base = Math.min(maxBackoffMs, backoffMs * 2 ** Math.max(0, n - 1));
  const spread = 0.8 + 0.4 * unitHash(`${key}#${n}`);
  return Math.round(Math.min(maxBackoffMs, base * spread));
}
