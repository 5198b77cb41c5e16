/**
 * Is a log due for rotation? logrotate's rules (findNeedRotating in logrotate 3.21), pure: the
 * clock and the last rotation come in as parameters, dates are read in local time as logrotate
 * reads them.
 */
import type { Frequency } from './schema.js';

export interface DueRules {
  readonly frequency: Frequency | undefined;
  readonly size: number | undefined;
  readonly minsize: number | undefined;
  readonly maxsize: number | undefined;
  readonly notifempty: boolean;
}

export interface DueInput {
  readonly size: number;
  /** When this log was last rotated (from the state file); undefined the first time it is seen. */
  readonly lastRotated: number | undefined;
  readonly now: number;
  /** A manual run: rotate like `logrotate -f` (only notifempty still holds). */
  readonly force: boolean;
}

export interface DueDecision {
  readonly due: boolean;
  /** Why (for the plan and the result): "forced", "size 12MB >= 10MB", "not due (daily)"... */
  readonly why: string;
}

const DAY = 86_400_000;

function dateOnly(t: number): number {
  const d = new Date(t);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Calendar days between two instants, ignoring the time of day (DST-safe by rounding). */
function daysElapsed(now: number, last: number): number {
  return Math.round((dateOnly(now) - dateOnly(last)) / DAY);
}

/** logrotate's weekly: 7+ days passed, or a new day that is the rotation weekday (Sunday). */
function frequencyDue(freq: Frequency, now: number, last: number): boolean {
  const n = new Date(now);
  const l = new Date(last);
  switch (freq) {
    case 'hourly':
      return (
        n.getHours() !== l.getHours() ||
        n.getDate() !== l.getDate() ||
        n.getMonth() !== l.getMonth() ||
        n.getFullYear() !== l.getFullYear()
      );
    case 'daily':
      return daysElapsed(now, last) >= 1;
    case 'weekly': {
      const days = daysElapsed(now, last);
      return days >= 7 || (days >= 1 && n.getDay() === 0);
    }
    case 'monthly':
      return n.getMonth() !== l.getMonth() || n.getFullYear() !== l.getFullYear();
    case 'yearly':
      return n.getFullYear() !== l.getFullYear();
  }
}

export function rotationDue(rules: DueRules, input: DueInput): DueDecision {
  const decide = (): DueDecision => {
    if (input.force) return { due: true, why: 'forced (manual run)' };
    if (rules.maxsize !== undefined && input.size > rules.maxsize)
      return { due: true, why: `larger than maxsize (${input.size} > ${rules.maxsize} bytes)` };
    if (rules.size !== undefined) {
      return input.size >= rules.size
        ? { due: true, why: `size ${input.size} >= ${rules.size} bytes` }
        : { due: false, why: `smaller than size (${input.size} < ${rules.size} bytes)` };
    }
    if (rules.frequency === undefined) return { due: true, why: 'every run (no frequency set)' };
    // A log seen for the first time counts as rotated now, as in logrotate's state file: it is
    // not rotated before its first full period has passed.
    if (input.lastRotated === undefined)
      return { due: false, why: `first seen; ${rules.frequency} from now on` };
    if (input.lastRotated - input.now > 25 * 3_600_000)
      return { due: true, why: 'last rotation is in the future (clock moved back): rotating' };
    if (!frequencyDue(rules.frequency, input.now, input.lastRotated))
      return {
        due: false,
        why: `not due (${rules.frequency}; last rotated ${new Date(input.lastRotated).toISOString()})`,
      };
    if (rules.minsize !== undefined && input.size < rules.minsize)
      return { due: false, why: `smaller than minsize (${input.size} < ${rules.minsize} bytes)` };
    return { due: true, why: `${rules.frequency} rotation due` };
  };
  const d = decide();
  if (d.due && rules.notifempty && input.size === 0) return { due: false, why: 'empty (notifempty)' };
  return d;
}
