/** The stats role (StatsStore): the daily rollup that finishing runs feeds, and its pruning. */
import { describe, expect, it } from 'vitest';
import type { RunsStore, StatsStore } from '../../../src/store/types.js';
import { DAY, DAY0, T0, fresh, ran, type StoreFactory } from './harness.js';

const total = (h: Readonly<Record<string, number>>) => Object.values(h).reduce((a, b) => a + b, 0);

export function describeStatsConformance(name: string, make: StoreFactory<RunsStore & StatsStore>): void {
  describe(`stats role: ${name}`, () => {
    it('counts each finished execution in its task and UTC day', async () => {
      const store = await fresh(make);
      await ran(store, { status: 'success', finishedAt: T0 + 1, durationMs: 100 });
      await ran(store, { status: 'failed', finishedAt: T0 + 2, durationMs: 300 });
      await ran(store, { status: 'timeout', finishedAt: T0 + 3, durationMs: 50 });
      await ran(store, { status: 'success', finishedAt: T0 + DAY - 1, durationMs: 20 });
      await ran(store, { status: 'success', finishedAt: T0 + DAY, durationMs: 7 }); // the next day
      await ran(store, { status: 'success', finishedAt: T0 + 5, durationMs: 1 }, { task: 'other' });
      const stats = await store.dailyStats(DAY0);
      expect(stats.map((s) => [s.task, s.day])).toEqual(
        expect.arrayContaining([
          ['job', DAY0],
          ['other', DAY0],
          ['job', DAY0 + 1],
        ]),
      );
      expect(stats).toHaveLength(3);
      const first = stats.find((s) => s.task === 'job' && s.day === DAY0)!;
      expect(first).toMatchObject({ runs: 4, successes: 2, failures: 2, totalMs: 470, maxMs: 300 });
      expect(total(first.histogram)).toBe(4);
      expect(stats.find((s) => s.day === DAY0 + 1)).toMatchObject({ runs: 1, totalMs: 7, maxMs: 7 });
    });

    it('leaves dry runs, rollbacks, restores, skipped and cancelled runs out of the rollup', async () => {
      const store = await fresh(make);
      await ran(store, { status: 'success', finishedAt: T0, durationMs: 100 });
      await ran(store, { status: 'success', finishedAt: T0, durationMs: 5 }, { dryRun: true });
      await ran(store, { status: 'success', finishedAt: T0, durationMs: 5 }, { trigger: 'rollback' });
      await ran(store, { status: 'success', finishedAt: T0, durationMs: 5 }, { trigger: 'restore' });
      await ran(store, { status: 'skipped', finishedAt: T0, durationMs: 5 });
      await ran(store, { status: 'cancelled', finishedAt: T0, durationMs: 5 });
      expect(await store.dailyStats(DAY0)).toMatchObject([{ task: 'job', runs: 1, totalMs: 100 }]);
    });

    it('reads from a day on, for all tasks or one', async () => {
      const store = await fresh(make);
      for (let d = 0; d < 4; d++) await ran(store, { status: 'success', finishedAt: T0 + d * DAY });
      await ran(store, { status: 'success', finishedAt: T0 + 3 * DAY }, { task: 'other' });
      expect((await store.dailyStats(DAY0 + 2)).map((s) => [s.day, s.task]).sort()).toEqual([
        [DAY0 + 2, 'job'],
        [DAY0 + 3, 'job'],
        [DAY0 + 3, 'other'],
      ]);
      expect((await store.dailyStats(DAY0, 'other')).map((s) => s.day)).toEqual([DAY0 + 3]);
      expect(await store.dailyStats(DAY0 + 4)).toEqual([]);
    });

    it('keeps lifetime totals per task, host and final status that prunes do not lower', async () => {
      const store = await fresh(make);
      await ran(store, { status: 'success', finishedAt: T0, durationMs: 50 }, { host: 'h1' });
      await ran(store, { status: 'success', finishedAt: T0 + DAY, durationMs: 2_000 }, { host: 'h1' });
      await ran(store, { status: 'failed', finishedAt: T0, durationMs: 90_000_000 }, { host: 'h1' });
      await ran(store, { status: 'skipped', finishedAt: T0, missed: true }, { host: 'h1' });
      await ran(store, { status: 'skipped', finishedAt: T0 }, { host: 'h1' });
      await ran(store, { status: 'cancelled', finishedAt: T0, durationMs: 5 }, { host: 'h2' });
      // Not executions: a dry run and a rollback record are never counted.
      await ran(store, { status: 'success', finishedAt: T0 }, { host: 'h1', dryRun: true });
      await ran(store, { status: 'success', finishedAt: T0 }, { host: 'h1', trigger: 'rollback' });
      await store.pruneStats(DAY0 + 10);
      await store.pruneRuns({ before: T0 + 10 * DAY, keepRunsPerTask: 1 });
      const h1 = await store.runTotals('h1');
      expect(h1.map((t) => [t.task, t.host, t.status, t.runs, t.missed])).toEqual([
        ['job', 'h1', 'failed', 1, 0],
        ['job', 'h1', 'skipped', 2, 1],
        ['job', 'h1', 'success', 2, 0],
      ]);
      const success = h1.find((t) => t.status === 'success')!;
      expect(success.totalMs).toBe(2_050);
      // Fixed buckets: 50 ms in the first (<= 100 ms), 2 s in the fourth (<= 5 s), 25 h past the last.
      expect(success.durations).toEqual({ '0': 1, '3': 1 });
      expect(h1.find((t) => t.status === 'failed')!.durations).toEqual({ '14': 1 });
      const all = await store.runTotals();
      expect(all.map((t) => `${t.host}:${t.status}`)).toEqual([
        'h1:failed',
        'h1:skipped',
        'h1:success',
        'h2:cancelled',
      ]);
    });

    it('prunes the days before a day, and only those', async () => {
      const store = await fresh(make);
      for (let d = 0; d < 5; d++) await ran(store, { status: 'success', finishedAt: T0 + d * DAY });
      expect(await store.pruneStats(DAY0 + 3)).toBe(3);
      expect((await store.dailyStats(0)).map((s) => s.day)).toEqual([DAY0 + 3, DAY0 + 4]);
      expect(await store.pruneStats(DAY0 + 3)).toBe(0);
    });

    it('gives the figures the rollup counts run by run, with their host, from an instant on', async () => {
      const store = await fresh(make);
      await ran(store, { status: 'success', finishedAt: T0, durationMs: 100 }, { host: 'h1' });
      await ran(store, { status: 'failed', finishedAt: T0 + 10, durationMs: 300 }, { host: 'h2' });
      await ran(
        store,
        { status: 'success', finishedAt: T0 + 20, durationMs: 5 },
        { host: 'h2', dryRun: true },
      );
      await ran(store, { status: 'success', finishedAt: T0 + 30, durationMs: 5 }, { trigger: 'rollback' });
      await ran(store, { status: 'skipped', finishedAt: T0 + 40, durationMs: 5 });
      await ran(store, { status: 'success', finishedAt: T0 - 1, durationMs: 7 }, { host: 'h1' }); // before
      const figures = (await store.runFigures(T0)).sort((a, b) => a.finishedAt - b.finishedAt);
      expect(figures).toEqual([
        { task: 'job', host: 'h1', finishedAt: T0, status: 'success', durationMs: 100 },
        { task: 'job', host: 'h2', finishedAt: T0 + 10, status: 'failed', durationMs: 300 },
      ]);
    });
  });
}
