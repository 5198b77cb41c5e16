/**
 * When a task fires: a cron expression (5 or 6 fields, `L`, `W`, `#`, nicknames such as `@daily`)
 * evaluated with croner in a time zone, or `every <duration>`. Pure: no timers, no clock.
 */
import { Cron } from 'croner';
import { DURATION_HINT, parseDuration } from './duration.js';

export type Schedule =
  | { readonly kind: 'cron'; readonly text: string; readonly timezone: string; readonly cron: Cron }
  | { readonly kind: 'interval'; readonly text: string; readonly everyMs: number };

export class ScheduleSyntaxError extends Error {
  override name = 'ScheduleSyntaxError';
}

const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Zulu', 'Universal', 'Etc/Universal']);
const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Zones already asked about: a config names a few zones for hundreds of tasks. */
const zoneValidity = new Map<string, boolean>();

export function isValidTimezone(zone: string): boolean {
  // UTC needs no time zone data: the first DateTimeFormat loads ICU's (about 20 ms of start-up).
  if (UTC_NAMES.has(zone)) return true;
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      valid = true;
    } catch {
      valid = false;
    }
    zoneValidity.set(zone, valid);
  }
  return valid;
}

/** Does the schedule fire on seconds (6-field cron, or an interval that is not whole minutes)? */
export function scheduleHasSeconds(s: Schedule): boolean {
  if (s.kind === 'interval') return s.everyMs % 60_000 !== 0;
  return !s.text.startsWith('@') && s.text.trim().split(/\s+/).length === 6;
}

/** Parses a schedule; throws ScheduleSyntaxError with a one-line explanation. */
export function parseSchedule(text: string, timezone: string): Schedule {
  const trimmed = text.trim();
  const every = /^every\s+(.+)$/i.exec(trimmed);
  if (every) {
    const everyMs = parseDuration(every[1]!);
    if (everyMs === undefined)
      throw new ScheduleSyntaxError(`"${text}": after "every" expected ${DURATION_HINT}`);
    if (everyMs < 1_000) throw new ScheduleSyntaxError(`"${text}": the interval must be at least 1s`);
    return { kind: 'interval', text: trimmed, everyMs };
  }
  if (trimmed.startsWith('@')) {
    const nick = trimmed.toLowerCase();
    if (nick === '@reboot') {
      throw new ScheduleSyntaxError(
        `"${text}": @reboot has no equivalent; run the task from your service's start-up instead`,
      );
    }
    if (!NICKNAMES.has(nick)) {
      throw new ScheduleSyntaxError(
        `"${text}": unknown nickname; expected one of ${[...NICKNAMES].join(', ')}`,
      );
    }
  } else {
    const fields = trimmed.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) {
      throw new ScheduleSyntaxError(
        `"${text}" has ${fields} field${fields === 1 ? '' : 's'}; expected a cron expression of 5 fields (minute hour day month weekday) or 6 (with seconds first), a nickname such as @daily, or "every 6h"`,
      );
    }
  }
  const pattern = trimmed.toLowerCase() === '@midnight' ? '@daily' : trimmed;
  try {
    const cron = compileCron(pattern, timezone);
    // croner accepts some patterns that never fire (e.g. 30 February); catch them at load time.
    if (cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) {
      throw new ScheduleSyntaxError(`"${text}" never fires`);
    }
    return { kind: 'cron', text: trimmed, timezone, cron };
  } catch (err) {
    if (err instanceof ScheduleSyntaxError) throw err;
    const reason = (err as Error).message.replace(/^CronPattern:\s*/, '');
    throw new ScheduleSyntaxError(`"${text}" is not a valid cron expression: ${reason}`);
  }
}

const compiled = new Map<string, Cron>();

/**
 * One compiled pattern per (expression, zone), shared: a daemon with hundreds of tasks, its
 * config probe and every reload reuse them. A paused Cron without a callback holds no timer and
 * its nextRun() keeps no state, so sharing is safe.
 */
function compileCron(pattern: string, timezone: string): Cron {
  const key = `${pattern}\u0000${timezone}`;
  let cron = compiled.get(key);
  if (!cron) {
    cron = new Cron(pattern, {
      // croner's zone conversion goes through Intl and costs ~4× a fixed offset: UTC needs none.
      ...(UTC_NAMES.has(timezone) ? { utcOffset: 0 } : { timezone }),
      paused: true,
      mode: '5-or-6-parts',
      // Vixie cron's rule: a job whose minute and hour fields are not wild is a fixed-time job
      // (runs once when a local time repeats, right after a DST gap when its time is skipped).
      fixedTimeRule: 'no-wildcard',
    });
    compactYears(cron);
    compiled.set(key, cron);
  }
  return cron;
}

/**
 * croner keeps the year field as a 10,000-entry array (~80 KB a pattern); 5- and 6-field
 * patterns only ever hold ones there. A byte array reads the same and is 8× smaller.
 */
function compactYears(cron: Cron): void {
  const pattern = (cron as unknown as { _states?: { pattern?: { year?: unknown } } })._states?.pattern;
  if (!pattern || !Array.isArray(pattern.year)) return;
  const years = pattern.year as number[];
  // Every year allowed (all 5- and 6-field patterns): one shared array, read-only to croner.
  if (years.length === EVERY_YEAR.length && years.every((v) => v === 1)) pattern.year = EVERY_YEAR;
  else if (years.every((v) => v === 0 || v === 1)) pattern.year = Uint8Array.from(years);
}

const EVERY_YEAR = new Uint8Array(10_000).fill(1);

/** The first fire instant strictly after `after` (epoch ms), or null when there is none. */
export function nextFire(schedule: Schedule, after: number): number | null {
  if (schedule.kind === 'interval') {
    // Intervals sit on a fixed grid anchored at the Unix epoch, so restarts never shift them.
    return (Math.floor(after / schedule.everyMs) + 1) * schedule.everyMs;
  }
  const next = schedule.cron.nextRun(new Date(after));
  return next === null ? null : next.getTime();
}

/** Every fire instant in (from, to], at most `limit` of them (the earliest ones). */
export function firesBetween(schedule: Schedule, from: number, to: number, limit: number): number[] {
  const out: number[] = [];
  let t = nextFire(schedule, from);
  while (t !== null && t <= to && out.length < limit) {
    out.push(t);
    t = nextFire(schedule, t);
  }
  return out;
}

/** How many fire instants fall in (from, to], counting at most `cap`. */
export function countFires(schedule: Schedule, from: number, to: number, cap: number): number {
  if (schedule.kind === 'interval') {
    return Math.min(
      cap,
      Math.max(0, Math.floor(to / schedule.everyMs) - Math.floor(from / schedule.everyMs)),
    );
  }
  return firesBetween(schedule, from, to, cap).length;
}

/** True when the schedule fires exactly at instant `t`. */
export function firesAt(schedule: Schedule, t: number): boolean {
  return nextFire(schedule, t - 1) === t;
}

/** The usual gap between fires around `t`: drives how fast urgency grows for an overdue task. */
export function periodAround(schedule: Schedule, t: number): number {
  if (schedule.kind === 'interval') return schedule.everyMs;
  const a = nextFire(schedule, t);
  const b = a === null ? null : nextFire(schedule, a);
  return a === null || b === null ? 86_400_000 : b - a;
}
