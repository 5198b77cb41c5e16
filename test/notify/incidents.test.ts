import { describe, expect, it } from 'vitest';
import { parseDays, parseHours } from '../../src/core/window.js';
import { decide, nextReminder, remind, type IncidentState, type Signal } from '../../src/notify/incidents.js';
import { planFlush, quietEnd, type HeldDelivery } from '../../src/notify/quiet-hours.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 24, 12);
const RENOTIFY = 6 * H;
const subject = { kind: 'task' as const, id: 'backup' };
const fail: Signal = {
  kind: 'problem',
  key: 'task:backup',
  subject,
  event: 'failure',
  level: 'fail',
  message: 'boom',
};
const warn: Signal = {
  kind: 'problem',
  key: 'task:backup',
  subject,
  event: 'warn',
  level: 'warn',
  message: 'meh',
};
const clear: Signal = { kind: 'clear', key: 'task:backup', message: 'ok again' };

/** Plays signals at instants through decide(), keeping the state like the store would. */
function play(steps: [number, Signal][]): { at: number; notify: string | null; repeat: boolean }[] {
  let state: IncidentState | undefined;
  const out: { at: number; notify: string | null; repeat: boolean }[] = [];
  for (const [at, sig] of steps) {
    const d = decide(state, sig, at, RENOTIFY);
    if (d.next) state = { ...d.next, id: state?.id ?? 1 };
    out.push({ at, notify: d.notify, repeat: d.repeat });
  }
  return out;
}

describe('incidents: one alert per incident', () => {
  it('alerts once while a task keeps failing, again after renotify, and on recovery', () => {
    const steps: [number, Signal][] = [
      [T0, fail],
      [T0 + 1 * H, fail],
      [T0 + 2 * H, fail],
      [T0 + 6 * H, fail], // renotify due (6h after the first alert)
      [T0 + 7 * H, fail],
      [T0 + 8 * H, clear],
      [T0 + 9 * H, clear], // nothing open: nothing to say
    ];
    expect(play(steps).map((s) => s.notify)).toEqual([
      'failure',
      null,
      null,
      'failure',
      null,
      'recovery',
      null,
    ]);
    expect(play(steps)[3]!.repeat).toBe(true);
  });

  it('escalates warn → fail at once but does not alert again on fail → warn', () => {
    const steps: [number, Signal][] = [
      [T0, warn],
      [T0 + H, fail],
      [T0 + 2 * H, warn],
      [T0 + 3 * H, clear],
    ];
    expect(play(steps).map((s) => s.notify)).toEqual(['warn', 'failure', null, 'recovery']);
  });

  it('counts occurrences and keeps the opening instant', () => {
    let s = decide(undefined, fail, T0, RENOTIFY).next!;
    s = decide(s, fail, T0 + H, RENOTIFY).next!;
    s = decide(s, fail, T0 + 2 * H, RENOTIFY).next!;
    expect(s.occurrences).toBe(3);
    expect(s.openedAt).toBe(T0);
    expect(s.lastSeenAt).toBe(T0 + 2 * H);
  });

  it('closes one-shot incidents without a recovery alert', () => {
    const opened = decide(
      undefined,
      { ...warn, key: 'anomaly:backup:too_long', oneShot: true },
      T0,
      RENOTIFY,
    ).next!;
    const d = decide(opened, { kind: 'clear', key: opened.key, message: '' }, T0 + H, RENOTIFY);
    expect(d.notify).toBeNull();
    expect(d.next!.closedAt).toBe(T0 + H);
  });

  it('reminds an open incident every renotify, never with renotify off', () => {
    const s = decide(undefined, fail, T0, RENOTIFY).next!;
    expect(nextReminder([s], RENOTIFY)).toBe(T0 + RENOTIFY);
    expect(remind(s, T0 + 5 * H, RENOTIFY).notify).toBeNull();
    const r = remind(s, T0 + 6 * H, RENOTIFY);
    expect(r.notify).toBe('failure');
    expect(r.repeat).toBe(true);
    expect(nextReminder([r.next!], RENOTIFY)).toBe(T0 + 12 * H);
    expect(nextReminder([s], null)).toBeNull();
    expect(decide(s, fail, T0 + 100 * H, null).notify).toBeNull();
  });
});

describe('quiet hours', () => {
  const nights = { hours: parseHours('22-6'), days: null, timezone: 'UTC' };

  it('ends at the first hour outside the window', () => {
    expect(quietEnd(Date.UTC(2026, 10, 24, 23, 15), nights)).toBe(Date.UTC(2026, 10, 25, 7));
    expect(quietEnd(Date.UTC(2026, 10, 24, 12), nights)).toBe(Date.UTC(2026, 10, 24, 12));
    const weekend = { hours: null, days: parseDays('sat-sun'), timezone: 'UTC' };
    expect(quietEnd(Date.UTC(2026, 10, 28, 10), weekend)).toBe(Date.UTC(2026, 10, 30, 0)); // Sat → Mon 00:00
  });

  it('sends only the latest alert per incident, and nothing for what resolved unseen', () => {
    const d = (
      id: number,
      incidentId: number,
      event: HeldDelivery['event'],
      channel = 'mail',
    ): HeldDelivery => ({
      id,
      incidentId,
      channel,
      event,
      createdAt: T0 + id,
    });
    const held = [
      d(1, 10, 'failure'),
      d(2, 10, 'failure'),
      d(3, 11, 'failure'),
      d(4, 11, 'recovery'),
      d(5, 12, 'recovery'),
    ];
    const plan = planFlush(
      held,
      (id) => id !== 10, // 10 still open; 11 and 12 closed
      (id) => id === 12, // the channel was told about 12 before the night
    );
    expect(plan.send.map((x) => x.id)).toEqual([2, 5]);
    expect(plan.drop.map((x) => [x.delivery.id, x.why])).toEqual([
      [1, 'superseded by a later alert'],
      [3, 'opened and resolved during quiet hours'],
      [4, 'opened and resolved during quiet hours'],
    ]);
  });
});
