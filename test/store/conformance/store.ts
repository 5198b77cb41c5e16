/**
 * The store as a whole (Store): the composite prune, which each role's prune serves, and what
 * `caretaker cleanup` followed by `caretaker metrics` must show.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.js';
import { DAY, DAY0, T0, fresh, ran, type StoreFactory } from './harness.js';

const HOUR = 3_600_000;

async function countedRuns(store: Store, sinceDay = 0): Promise<number> {
  return (await store.dailyStats(sinceDay)).reduce((n, s) => n + s.runs, 0);
}

export function describeStoreConformance(name: string, make: StoreFactory<Store>): void {
  describe(`whole store: ${name}`, () => {
    it('after a prune by age, metrics count exactly the runs history still has', async () => {
      const store = await fresh(make);
      // Every six hours for ten days: four runs a day, at 00:00, 06:00, 12:00 and 18:00 UTC.
      for (let h = 0; h < 240; h += 6) await ran(store, { status: 'success', finishedAt: T0 + h * HOUR });
      // At 15:00 on day 9, keep 3 days: the cutoff falls inside day 6.
      const now = T0 + 9 * DAY + 15 * HOUR;
      const r = await store.prune({ now, keepDays: 3, keepRunsPerTask: 10_000 });
      const kept = await store.listRuns({ limit: 1000 });
      // Whatever the stats count, history has: the same runs, from the same first day.
      expect(await countedRuns(store)).toBe(kept.length);
      const days = (await store.dailyStats(0)).map((s) => s.day);
      expect(Math.min(...days)).toBe(Math.floor(Math.min(...kept.map((k) => k.finishedAt!)) / DAY));
      // Nothing younger than three days went (13 runs: day 6 at 18:00, then days 7 to 9).
      expect(kept.filter((k) => k.finishedAt! >= now - 3 * DAY)).toHaveLength(13);
      expect(r.runsDeleted).toBe(40 - kept.length);
      expect(r.statsDeleted).toBe(10 - days.length);
    });

    it('keeps counting runs pruned by the per-task cap until their day ages out', async () => {
      const store = await fresh(make);
      for (let i = 0; i < 6; i++) await ran(store, { status: 'success', finishedAt: T0 + i * HOUR });
      const r = await store.prune({ now: T0 + DAY, keepDays: 30, keepRunsPerTask: 2 });
      expect(r.runsDeleted).toBe(4);
      expect((await store.listRuns({ limit: 10 })).length).toBe(2);
      // The rollup is what long-span metrics read: the cap bounds detail, not statistics.
      expect(await countedRuns(store, DAY0)).toBe(6);
      await store.prune({ now: T0 + 31 * DAY, keepDays: 30, keepRunsPerTask: 2 });
      expect(await countedRuns(store)).toBe(0);
    });

    it('prunes every role at the same cutoff and reports what went', async () => {
      const store = await fresh(make);
      await ran(store, { status: 'failed', finishedAt: T0 });
      await ran(store, { status: 'success', finishedAt: T0 + 5 * DAY });
      await store.recordSamples('job', T0, [{ key: 'x', value: 1 }]);
      await store.recordSamples('job', T0 + 5 * DAY, [{ key: 'x', value: 2 }]);
      await store.saveIncident({
        id: 0,
        key: 'k',
        subjectKind: 'task',
        subjectId: 'job',
        event: 'failure',
        level: 'fail',
        openedAt: T0,
        lastSeenAt: T0,
        lastNotifiedAt: null,
        occurrences: 1,
        notifications: 0,
        message: '',
        oneShot: false,
        closedAt: T0 + 1,
      });
      const claim = (slot: number) => ({
        task: 'job',
        slot,
        host: 'h1',
        instance: 'i',
        now: slot,
        leaseMs: 1,
      });
      for (const slot of [T0, T0 + 5 * DAY]) {
        await store.claimSlot(claim(slot));
        await store.releaseSlot('job', slot, 'i', { state: 'done' });
      }
      await store.claimSlot(claim(T0 + 1)); // still held: its run goes on, however old
      const r = await store.prune({ now: T0 + 6 * DAY, keepDays: 3, keepRunsPerTask: 100 });
      expect(r).toEqual({ runsDeleted: 1, statsDeleted: 1, samplesDeleted: 2, claimsDeleted: 1 });
      expect(await store.getClaim('job', T0)).toBeUndefined();
      expect(await store.getClaim('job', T0 + 1)).toMatchObject({ state: 'held' });
      expect(await store.getClaim('job', T0 + 5 * DAY)).toMatchObject({ state: 'done' });
      expect(await store.sampleSeries('job', 'x', 0)).toEqual([{ at: T0 + 5 * DAY, value: 2 }]);
      expect(await store.listIncidents({ limit: 10 })).toEqual([]);
      expect((await store.listRuns({ limit: 10 })).map((x) => x.status)).toEqual(['success']);
    });
  });
}
