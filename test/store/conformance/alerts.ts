/** The alerts role (AlertsStore): incidents, their deliveries, dead-man pings, and their pruning. */
import { describe, expect, it } from 'vitest';
import type { AlertsStore, IncidentRecord } from '../../../src/store/types.js';
import { DAY, T0, fresh, type StoreFactory } from './harness.js';
import { IncidentOpenError } from '../../../src/store/incident-open-error.js';

const incident = (over: Partial<IncidentRecord> = {}): IncidentRecord => ({
  id: 0,
  key: 'task:backup:failure',
  subjectKind: 'task',
  subjectId: 'backup',
  event: 'failure',
  level: 'fail',
  openedAt: T0,
  lastSeenAt: T0,
  lastNotifiedAt: null,
  occurrences: 1,
  notifications: 0,
  message: 'backup failed: disk full',
  oneShot: false,
  closedAt: null,
  ...over,
});

const delivery = (
  incidentId: number | null,
  over: Partial<Parameters<AlertsStore['insertDelivery']>[0]> = {},
) => ({
  incidentId,
  channel: 'webhook',
  event: 'failure',
  status: 'sending' as const,
  attempts: 0,
  createdAt: T0,
  finishedAt: null,
  error: null,
  payload: null,
  ...over,
});

export function describeAlertsConformance(name: string, make: StoreFactory<AlertsStore>): void {
  describe(`alerts role: ${name}`, () => {
    it('opens, updates and closes an incident; only an open one is found by key', async () => {
      const store = await fresh(make);
      expect(await store.openIncident('task:backup:failure')).toBeUndefined();
      const opened = await store.saveIncident(incident({ oneShot: true }));
      expect(opened.id).toBeGreaterThan(0);
      expect(opened).toEqual({ ...incident({ oneShot: true }), id: opened.id });
      const seen = await store.saveIncident({
        ...opened,
        occurrences: 3,
        lastSeenAt: T0 + 60_000,
        level: 'warn',
      });
      expect(await store.openIncident('task:backup:failure')).toEqual(seen);
      expect(seen).toMatchObject({ occurrences: 3, lastSeenAt: T0 + 60_000, level: 'warn', oneShot: true });
      await store.saveIncident({ ...seen, closedAt: T0 + 120_000 });
      expect(await store.openIncident('task:backup:failure')).toBeUndefined();
      const again = await store.saveIncident(incident({ openedAt: T0 + DAY }));
      expect(again.id).not.toBe(opened.id);
      expect((await store.openIncident('task:backup:failure'))?.id).toBe(again.id);
    });

    it('keeps one open incident per key: a second one opened meanwhile is refused, a closed one is not', async () => {
      const store = await fresh(make);
      const first = await store.saveIncident(incident());
      // Another process (a host of the fleet) saw the same problem a moment later.
      await expect(store.saveIncident(incident({ openedAt: T0 + 5 }))).rejects.toThrow(IncidentOpenError);
      expect((await store.openIncident(first.key))?.id).toBe(first.id);
      await store.saveIncident({ ...first, closedAt: T0 + 60_000 });
      const next = await store.saveIncident(incident({ openedAt: T0 + DAY }));
      expect(next.id).not.toBe(first.id);
      // A closed one saved as such never conflicts.
      await store.saveIncident(incident({ closedAt: T0 + 1 }));
    });

    it('refuses to update an incident that does not exist', async () => {
      const store = await fresh(make);
      await expect(store.saveIncident(incident({ id: 424242 }))).rejects.toThrow(/424242/);
      expect(await store.listIncidents({ limit: 10 })).toEqual([]);
    });

    it('lists incidents newest first, open or closed, and those still open at an instant', async () => {
      const store = await fresh(make);
      const a = await store.saveIncident(incident({ key: 'a', closedAt: T0 + 10 }));
      const b = await store.saveIncident(incident({ key: 'b', closedAt: T0 + 1000 }));
      const c = await store.saveIncident(incident({ key: 'c' }));
      expect((await store.listIncidents({ limit: 10 })).map((i) => i.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.listIncidents({ limit: 2 })).map((i) => i.id)).toEqual([c.id, b.id]);
      expect((await store.listIncidents({ open: true, limit: 10 })).map((i) => i.id)).toEqual([c.id]);
      expect((await store.listIncidents({ open: false, limit: 10 })).map((i) => i.id)).toEqual([b.id, a.id]);
      expect((await store.listIncidents({ since: T0 + 500, limit: 10 })).map((i) => i.id)).toEqual([
        c.id,
        b.id,
      ]);
    });

    it('records deliveries and their outcome; keeps a held payload unless told otherwise', async () => {
      const store = await fresh(make);
      const inc = await store.saveIncident(incident());
      const held = await store.insertDelivery(delivery(inc.id, { status: 'held', payload: '{"alert":1}' }));
      const sent = await store.insertDelivery(delivery(inc.id, { channel: 'email', createdAt: T0 + 1 }));
      expect(held).toBeGreaterThan(0);
      expect(sent).not.toBe(held);
      await store.updateDelivery(held, { status: 'held', attempts: 1, finishedAt: null, error: null });
      await store.updateDelivery(sent, { status: 'sent', attempts: 2, finishedAt: T0 + 5, error: null });
      const all = await store.listDeliveries({ limit: 10 });
      expect(all.map((d) => d.id)).toEqual([sent, held]);
      expect(all.find((d) => d.id === held)).toMatchObject({
        status: 'held',
        attempts: 1,
        payload: '{"alert":1}',
      });
      expect(all.find((d) => d.id === sent)).toMatchObject({
        status: 'sent',
        attempts: 2,
        finishedAt: T0 + 5,
      });
      await store.updateDelivery(held, {
        status: 'dropped',
        attempts: 1,
        finishedAt: T0 + 9,
        error: 'quiet hours ended after the limit',
        payload: null,
      });
      expect((await store.listDeliveries({ status: 'dropped', limit: 10 }))[0]).toMatchObject({
        id: held,
        payload: null,
        error: 'quiet hours ended after the limit',
      });
      expect((await store.listDeliveries({ status: 'held', limit: 10 })).length).toBe(0);
      expect((await store.listDeliveries({ since: T0 + 1, limit: 10 })).map((d) => d.id)).toEqual([sent]);
      expect((await store.listDeliveries({ incidentId: inc.id + 1, limit: 10 })).length).toBe(0);
    });

    it('says whether an incident was ever sent to a channel', async () => {
      const store = await fresh(make);
      const inc = await store.saveIncident(incident());
      const d = await store.insertDelivery(delivery(inc.id));
      await store.insertDelivery(delivery(inc.id, { channel: 'email', status: 'failed' }));
      expect(await store.wasDelivered(inc.id, 'webhook')).toBe(false);
      await store.updateDelivery(d, { status: 'sent', attempts: 1, finishedAt: T0 + 1, error: null });
      expect(await store.wasDelivered(inc.id, 'webhook')).toBe(true);
      expect(await store.wasDelivered(inc.id, 'email')).toBe(false);
      expect(await store.wasDelivered(inc.id + 1, 'webhook')).toBe(false);
    });

    it('keeps the latest ping of every name', async () => {
      const store = await fresh(make);
      expect((await store.lastPings()).size).toBe(0);
      await store.recordPing({ name: 'nightly', at: T0, ok: true, source: 'cli', message: null });
      await store.recordPing({ name: 'nightly', at: T0 + 10, ok: false, source: 'api', message: 'exit 3' });
      await store.recordPing({ name: 'hourly', at: T0 + 5, ok: true, source: null, message: null });
      const pings = await store.lastPings();
      expect(pings.get('nightly')).toEqual({
        name: 'nightly',
        at: T0 + 10,
        ok: false,
        source: 'api',
        message: 'exit 3',
      });
      expect(pings.get('hourly')).toEqual({
        name: 'hourly',
        at: T0 + 5,
        ok: true,
        source: null,
        message: null,
      });
      expect(pings.size).toBe(2);
    });

    it('prunes closed incidents, finished deliveries and pings before an instant, keeping what is still needed', async () => {
      const store = await fresh(make);
      const old = await store.saveIncident(incident({ key: 'old', closedAt: T0 }));
      const open = await store.saveIncident(incident({ key: 'open', openedAt: T0 - DAY }));
      const recent = await store.saveIncident(incident({ key: 'recent', closedAt: T0 + 2 * DAY }));
      await store.insertDelivery(delivery(old.id, { status: 'sent', createdAt: T0 }));
      const held = await store.insertDelivery(delivery(open.id, { status: 'held', createdAt: T0 }));
      const newer = await store.insertDelivery(
        delivery(recent.id, { status: 'sent', createdAt: T0 + 2 * DAY }),
      );
      await store.recordPing({ name: 'gone', at: T0, ok: true, source: null, message: null });
      await store.recordPing({ name: 'gone', at: T0 + 1, ok: true, source: null, message: null });
      await store.recordPing({ name: 'lonely', at: T0, ok: true, source: null, message: null });
      // incident `old`, its delivery, and the older `gone` ping
      expect(await store.pruneAlerts(T0 + DAY)).toBe(3);
      expect((await store.listIncidents({ limit: 10 })).map((i) => i.key).sort()).toEqual(['open', 'recent']);
      expect((await store.listDeliveries({ limit: 10 })).map((d) => d.id).sort()).toEqual(
        [held, newer].sort(),
      );
      const pings = await store.lastPings();
      expect(pings.get('gone')?.at).toBe(T0 + 1); // the newest of each name stays
      expect(pings.get('lonely')?.at).toBe(T0);
    });
  });
}
