/**
 * Quiet hours: deliveries to channels that respect them are held, and sent when the quiet
 * window ends — collapsed, so that a night of flapping becomes at most one message per incident
 * and channel, and a problem that opened and resolved while everyone slept wakes nobody.
 * Pure: instants and records in, a plan out.
 */
import { localParts } from '../core/local-time.js';
import { isInside, type Window } from '../core/window.js';
import type { AlertEventKind } from './types.js';

/** The first instant at or after `t` outside the quiet window (t itself when not quiet). */
export function quietEnd(t: number, w: Window): number {
  if (!isInside(t, w)) return t;
  let cursor = t;
  // Whole local hours: step to each following hour boundary (8 days covers any weekly window).
  for (let i = 0; i < 24 * 8 + 2; i++) {
    const p = localParts(cursor, w.timezone);
    cursor = cursor - (p.minute * 60 + p.second) * 1_000 - (cursor % 1_000) + 3_600_000;
    if (!isInside(cursor, w)) return cursor;
  }
  // A window covering every hour of the week: there is no end; never hold forever.
  return t;
}

/** A window that covers every hour of every day would hold alerts forever: refuse it at load. */
export function coversEverything(w: Window): boolean {
  return (w.hours === null || w.hours.every(Boolean)) && (w.days === null || w.days.every(Boolean));
}

export interface HeldDelivery {
  readonly id: number;
  readonly incidentId: number | null;
  readonly channel: string;
  readonly event: AlertEventKind;
  readonly createdAt: number;
}

export interface FlushPlan {
  readonly send: readonly HeldDelivery[];
  readonly drop: readonly { readonly delivery: HeldDelivery; readonly why: string }[];
}

/**
 * Per channel and incident, only the latest held alert is sent. When the channel was never told
 * about the incident and it is closed by now (or the latest is its recovery), nothing is sent.
 */
export function planFlush(
  held: readonly HeldDelivery[],
  isClosed: (incidentId: number) => boolean,
  toldBefore: (incidentId: number, channel: string) => boolean,
): FlushPlan {
  const send: HeldDelivery[] = [];
  const drop: { delivery: HeldDelivery; why: string }[] = [];
  const groups = new Map<string, HeldDelivery[]>();
  for (const d of held) {
    if (d.incidentId === null) {
      send.push(d);
      continue;
    }
    const k = `${d.channel}\u0000${d.incidentId}`;
    groups.set(k, [...(groups.get(k) ?? []), d]);
  }
  for (const list of groups.values()) {
    list.sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
    const last = list[list.length - 1]!;
    const incident = last.incidentId!;
    const told = toldBefore(incident, last.channel);
    if (!told && (last.event === 'recovery' || isClosed(incident))) {
      for (const d of list) drop.push({ delivery: d, why: 'opened and resolved during quiet hours' });
      continue;
    }
    send.push(last);
    for (const d of list.slice(0, -1)) drop.push({ delivery: d, why: 'superseded by a later alert' });
  }
  send.sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  return { send, drop };
}
