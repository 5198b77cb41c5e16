/**
 * Alert hygiene: one alert per incident, not per run. A problem opens an incident and alerts;
 * while it stays open, more of the same problem is counted but not alerted again, except when
 * it gets worse (warn → fail) or `renotify` has passed since the last alert. The first success
 * closes it with a `recovery` alert. Pure: the state and `now` come in, a decision goes out.
 */
import type { IncidentRecord } from '../store/types.js';
import type { AlertEventKind, AlertSubject } from './types.js';

export type Level = IncidentRecord['level'];

/** An incident as stored (id 0 until it is). */
export type IncidentState = IncidentRecord;

export type Signal =
  | {
      readonly kind: 'problem';
      readonly key: string;
      readonly subject: AlertSubject;
      readonly event: AlertEventKind;
      readonly level: Level;
      readonly message: string;
      readonly oneShot?: boolean;
    }
  | { readonly kind: 'clear'; readonly key: string; readonly message: string };

export interface Decision {
  /** The state to store (undefined: nothing changes). */
  readonly next: IncidentState | undefined;
  /** The alert to send, if any. */
  readonly notify: AlertEventKind | null;
  /** True when the alert repeats one already sent for this incident. */
  readonly repeat: boolean;
  /** Why nothing was sent (for the log), when nothing was. */
  readonly suppressed?: string;
}

const rank = (l: Level) => (l === 'fail' ? 2 : 1);

export function renotifyDue(s: IncidentState, now: number, renotifyMs: number | null): boolean {
  if (s.lastNotifiedAt === null) return true;
  return renotifyMs !== null && now - s.lastNotifiedAt >= renotifyMs;
}

export function decide(
  current: IncidentState | undefined,
  signal: Signal,
  now: number,
  renotifyMs: number | null,
): Decision {
  const open = current && current.closedAt === null ? current : undefined;
  if (signal.kind === 'clear') {
    if (!open) return { next: undefined, notify: null, repeat: false };
    const next = { ...open, closedAt: now, lastSeenAt: now, message: signal.message };
    // Nobody was told about it (held, or a one-shot): closing it quietly is the right thing.
    if (open.oneShot || open.lastNotifiedAt === null)
      return { next, notify: null, repeat: false, suppressed: 'closed without a recovery alert' };
    return { next: { ...next, notifications: open.notifications + 1 }, notify: 'recovery', repeat: false };
  }
  if (!open) {
    return {
      next: {
        id: 0,
        key: signal.key,
        subjectKind: signal.subject.kind,
        subjectId: signal.subject.id,
        event: signal.event,
        level: signal.level,
        openedAt: now,
        lastSeenAt: now,
        lastNotifiedAt: now,
        occurrences: 1,
        notifications: 1,
        message: signal.message,
        oneShot: signal.oneShot ?? false,
        closedAt: null,
      },
      notify: signal.event,
      repeat: false,
    };
  }
  const seen = { ...open, lastSeenAt: now, occurrences: open.occurrences + 1, message: signal.message };
  if (rank(signal.level) > rank(open.level)) {
    return {
      next: {
        ...seen,
        level: signal.level,
        event: signal.event,
        lastNotifiedAt: now,
        notifications: open.notifications + 1,
      },
      notify: signal.event,
      repeat: false,
    };
  }
  if (renotifyDue(open, now, renotifyMs)) {
    return {
      next: { ...seen, lastNotifiedAt: now, notifications: open.notifications + 1 },
      notify: open.event as AlertEventKind,
      repeat: true,
    };
  }
  return { next: seen, notify: null, repeat: false, suppressed: 'incident already open (deduplicated)' };
}

/** A renotify tick: an open incident whose last alert is older than `renotify` alerts again. */
export function remind(current: IncidentState, now: number, renotifyMs: number | null): Decision {
  if (current.closedAt !== null || current.oneShot || !renotifyDue(current, now, renotifyMs))
    return { next: undefined, notify: null, repeat: false };
  return {
    next: { ...current, lastNotifiedAt: now, notifications: current.notifications + 1 },
    notify: current.event as AlertEventKind,
    repeat: true,
  };
}

/** When the next reminder of these open incidents is due (null: none). */
export function nextReminder(open: readonly IncidentState[], renotifyMs: number | null): number | null {
  if (renotifyMs === null) return null;
  let next: number | null = null;
  for (const s of open) {
    if (s.closedAt !== null || s.oneShot || s.lastNotifiedAt === null) continue;
    const due = s.lastNotifiedAt + renotifyMs;
    if (next === null || due < next) next = due;
  }
  return next;
}
