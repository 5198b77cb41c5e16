/**
 * Alerts from a running engine on a manual clock, delivered to a real webhook receiver: one
 * alert per incident, renotify, recovery, quiet hours, missed and stuck runs, run-time
 * anomalies, and a channel that is down (recorded, and the scheduler carries on).
 */
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/notify/types.js';
import { harness, HOUR, MIN, T0, type Harness } from '../support/engine-harness.js';
import { closedPort, httpServer, type Loopback } from '../support/loopback-servers.js';

async function receiver(): Promise<Loopback> {
  return httpServer({ '/hook': (_q, res) => res.writeHead(200).end('ok') });
}

function notifyTop(hook: Loopback, extra = ''): string {
  return `notify:\n  - { type: webhook, name: ops, url: "${hook.url}/hook", retries: 0 }\n${extra}`;
}

async function alerts(h: Harness, hook: Loopback): Promise<AlertEvent[]> {
  await h.settle();
  await h.ct.alertsIdle();
  return hook.received.map((r) => JSON.parse(r.body) as AlertEvent);
}

const brief = (events: AlertEvent[]) =>
  events.map((e) => `${e.event}${e.incident?.repeat ? ' (repeat)' : ''} ${e.subject.id}`);

describe('alerts: one per incident', () => {
  it('alerts on the first failure, stays quiet while it keeps failing, repeats after renotify, and recovers', async () => {
    const hook = await receiver();
    const h = await harness('  flaky: { action: gate, schedule: "0 * * * *", owner: platform-team }\n', {
      top: notifyTop(hook),
    });
    const runHour = async (hour: number, ok: boolean) => {
      await h.advanceTo(T0 + hour * HOUR);
      h.gates.release('flaky', ok);
      await h.settle();
    };
    await runHour(1, false);
    expect(brief(await alerts(h, hook))).toEqual(['failure flaky']);
    for (const hour of [2, 3, 4, 5, 6]) await runHour(hour, false);
    expect(brief(await alerts(h, hook))).toEqual(['failure flaky']); // deduplicated
    // 6h after the first alert (renotify default), the open incident is repeated once.
    await runHour(7, false);
    await runHour(8, true);
    const events = await alerts(h, hook);
    expect(brief(events)).toEqual(['failure flaky', 'failure (repeat) flaky', 'recovery flaky']);
    const first = events[0]!;
    expect(first.subject.owner).toBe('platform-team');
    expect(first.run?.status).toBe('failed');
    // The reminder fires at 07:00 sharp, before that hour's run: six failures seen by then.
    expect(events[1]!.incident?.occurrences).toBe(6);
    const [incident] = await h.ct.incidents();
    expect(incident).toMatchObject({ key: 'task:flaky', occurrences: 7, closedAt: T0 + 8 * HOUR });
    const deliveries = await h.ct.deliveries({ incidentId: incident!.id, limit: 10 });
    expect(deliveries.map((d) => d.status)).toEqual(['sent', 'sent', 'sent']);
    await h.stop();
  });

  it('holds alerts in quiet hours: a night that healed itself wakes nobody; what is still broken is sent at the end', async () => {
    const hook = await receiver();
    const tasks =
      '  healed: { action: gate, schedule: "0 1,3 * * *" }\n  broken: { action: gate, schedule: "0 2 * * *" }\n';
    const h = await harness(tasks, { top: notifyTop(hook, 'alerts: { quiet_hours: { hours: "22-6" } }') });
    const runAt = async (hour: number, task: string, ok: boolean) => {
      await h.advanceTo(T0 + hour * HOUR);
      h.gates.release(task, ok);
      await h.settle();
    };
    await runAt(1, 'healed', false);
    await runAt(2, 'broken', false);
    await runAt(3, 'healed', true);
    expect(await alerts(h, hook)).toEqual([]); // all held
    await h.advanceTo(T0 + 7 * HOUR); // the quiet window ends at 07:00 UTC
    const events = await alerts(h, hook);
    expect(brief(events)).toEqual(['failure broken']);
    expect(events[0]!.at).toBe(new Date(T0 + 2 * HOUR).toISOString()); // sent late, dated when it happened
    const all = await h.ct.deliveries({ limit: 10 });
    expect(all.map((d) => `${d.event}:${d.status}`).sort()).toEqual([
      'failure:dropped',
      'failure:sent',
      'recovery:dropped',
    ]);
    await h.stop();
  });
});

describe('alerts: missed, stuck and anomalies', () => {
  it('alerts "missed" when a run could not start by its starting_deadline', async () => {
    const hook = await receiver();
    const h = await harness('  nightly: { action: gate, schedule: "0 * * * *", starting_deadline: 10m }\n', {
      top: notifyTop(hook),
      start: T0 + 30_000,
    });
    await h.restart(T0 + 5 * HOUR + 30 * MIN); // down for five hours
    const events = await alerts(h, hook);
    expect(brief(events)).toEqual(['missed nightly']);
    expect(events[0]!.message).toMatch(/older than starting_deadline \(10m\)/);
    await h.stop();
  });

  it('alerts "stuck" when a run hits its timeout', async () => {
    const hook = await receiver();
    const h = await harness('  hang: { action: gate, schedule: "0 1 * * *", timeout: 10m }\n', {
      top: notifyTop(hook),
    });
    await h.advanceTo(T0 + HOUR + 10 * MIN);
    const events = await alerts(h, hook);
    expect(brief(events)).toEqual(['stuck hang']);
    expect(events[0]!.message).toMatch(/timed out after 10m/);
    await h.stop();
  });

  it('alerts while a run goes on far longer than its p95, and when one finishes suspiciously fast', async () => {
    const hook = await receiver();
    const h = await harness(
      '  backup: { action: gate, schedule: "0 * * * *", anomalies: { too_long: 2, too_short: 0.1, min_runs: 3 } }\n',
      { top: notifyTop(hook) },
    );
    for (const hour of [1, 2, 3]) {
      await h.advanceTo(T0 + hour * HOUR + 10 * MIN); // each run takes 10 minutes
      h.gates.release('backup');
      await h.settle();
    }
    expect(await alerts(h, hook)).toEqual([]);
    await h.advanceTo(T0 + 4 * HOUR + 19 * MIN);
    expect(await alerts(h, hook)).toEqual([]); // 19 minutes: under 2 × p95 (20m)
    await h.advanceTo(T0 + 4 * HOUR + 21 * MIN);
    let events = await alerts(h, hook);
    expect(brief(events)).toEqual(['anomaly backup']);
    expect(events[0]!.message).toBe('backup: running for 20m, over 2× its p95 of 10m');
    expect(events[0]!.severity).toBe('warning');
    h.gates.release('backup');
    // The next run takes 30 seconds: under 0.1 × the median of 10m.
    await h.advanceTo(T0 + 5 * HOUR + 30_000);
    h.gates.release('backup');
    events = await alerts(h, hook);
    expect(brief(events)).toEqual(['anomaly backup', 'anomaly backup']);
    expect(events[1]!.message).toMatch(/^backup: finished in 30s, under 0.1× its median of 10m/);
    await h.stop();
  });

  it('alerts when the failure rate over a window passes its limit', async () => {
    const hook = await receiver();
    const h = await harness(
      '  sync: { action: gate, schedule: "0 * * * *", anomalies: { too_long: false, failure_rate: { max: 50%, over: 6h, min_runs: 4 } } }\n',
      { top: `${notifyTop(hook).replace('retries: 0', 'retries: 0, on: [anomaly]')}` },
    );
    const outcomes = [true, false, true, false, false];
    for (const [i, ok] of outcomes.entries()) {
      await h.advanceTo(T0 + (i + 1) * HOUR);
      h.gates.release('sync', ok);
      await h.settle();
    }
    const events = await alerts(h, hook);
    expect(brief(events)).toEqual(['anomaly sync']); // 3 of 5 failed (60%) > 50%; 2 of 4 (50%) was not
    expect(events[0]!.message).toBe('sync: 3 of 5 runs failed within 6h (60%, limit 50%)');
    await h.stop();
  });
});

describe('alerts: a channel that is down', () => {
  it('records the failed delivery and keeps scheduling', async () => {
    const port = await closedPort();
    const h = await harness('  job: { action: gate, schedule: "0 * * * *" }\n', {
      top: `notify:\n  - { type: webhook, name: dead, url: "http://127.0.0.1:${port}/hook", retries: 0 }\n`,
    });
    await h.advanceTo(T0 + HOUR);
    h.gates.release('job', false);
    await h.settle();
    await h.ct.alertsIdle();
    const [d] = await h.ct.deliveries({ limit: 5 });
    expect(d).toMatchObject({ channel: 'dead', event: 'failure', status: 'failed', attempts: 1 });
    expect(d!.error).toMatch(/ECONNREFUSED/);
    await h.advanceTo(T0 + 2 * HOUR);
    expect(h.gates.holding()).toEqual(['job']); // the next run started as usual
    await h.stop();
  });
});
