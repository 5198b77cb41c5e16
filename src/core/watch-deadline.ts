/**
 * Dead-man watches: an external job reports in ("pings"); when no ping arrives in time, the
 * watch is missed. Pure: the caller passes the instants.
 *
 * `every 1h` means "at most 1h between pings" (healthchecks.io's period), counted from the last
 * ping; a cron expectation ("0 2 * * *") means "a ping after each fire": the deadline is the
 * first fire after the last ping, plus the grace.
 */
import { nextFire, type Schedule } from './schedule.js';

export interface WatchTiming {
  readonly expect: Schedule;
  readonly graceMs: number;
}

/**
 * When the watch is missed if no ping arrives first. `lastPing` is the latest ping (success or
 * failure: the job did run), `since` when the watch was first seen (its first ping is owed from
 * then). Null when a cron expectation never fires again.
 */
export function watchDeadline(w: WatchTiming, lastPing: number | null, since: number): number | null {
  const from = lastPing ?? since;
  if (w.expect.kind === 'interval') return from + w.expect.everyMs + w.graceMs;
  const fire = nextFire(w.expect, from);
  return fire === null ? null : fire + w.graceMs;
}
