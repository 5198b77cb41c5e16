/** The samples role (SamplesStore): measured values per task and key. */
import { describe, expect, it } from 'vitest';
import type { SamplesStore } from '../../../src/store/types.js';
import { T0, fresh, type StoreFactory } from './harness.js';

export function describeSamplesConformance(name: string, make: StoreFactory<SamplesStore>): void {
  describe(`samples role: ${name}`, () => {
    it('returns one key of one task since an instant, oldest first', async () => {
      const store = await fresh(make);
      await store.recordSamples('health', T0 + 2, [{ key: 'disk./', value: 0.5, unit: 'ratio' }]);
      await store.recordSamples('health', T0, [
        { key: 'disk./', value: 0.25, unit: 'ratio' },
        { key: 'load', value: 1.5 },
      ]);
      await store.recordSamples('health', T0 + 1, [{ key: 'disk./', value: 0.375, unit: 'ratio' }]);
      await store.recordSamples('other', T0 + 1, [{ key: 'disk./', value: 0.99 }]);
      expect(await store.sampleSeries('health', 'disk./', T0)).toEqual([
        { at: T0, value: 0.25 },
        { at: T0 + 1, value: 0.375 },
        { at: T0 + 2, value: 0.5 },
      ]);
      expect(await store.sampleSeries('health', 'disk./', T0 + 1)).toEqual([
        { at: T0 + 1, value: 0.375 },
        { at: T0 + 2, value: 0.5 },
      ]);
      expect(await store.sampleSeries('health', 'nothing', 0)).toEqual([]);
    });

    it('keeps one value per key and instant (the last recorded), and skips values that are not finite', async () => {
      const store = await fresh(make);
      await store.recordSamples('health', T0, [{ key: 'x', value: 1 }]);
      await store.recordSamples('health', T0, [
        { key: 'x', value: 2 },
        { key: 'nan', value: Number.NaN },
        { key: 'inf', value: Number.POSITIVE_INFINITY },
      ]);
      expect(await store.sampleSeries('health', 'x', 0)).toEqual([{ at: T0, value: 2 }]);
      expect(await store.sampleSeries('health', 'nan', 0)).toEqual([]);
      expect((await store.sampleKeys('health')).map((k) => k.key)).not.toContain('inf');
    });

    it('lists the keys with their unit, direction and latest value, for all tasks or one', async () => {
      const store = await fresh(make);
      await store.recordSamples('health', T0, [
        { key: 'mem', value: 10, unit: 'bytes', better: 'lower' },
        { key: 'up', value: 1, better: 'higher' },
      ]);
      await store.recordSamples('health', T0 + 5, [
        { key: 'mem', value: 30, unit: 'bytes', better: 'lower' },
      ]);
      await store.recordSamples('web', T0, [{ key: 'p95', value: 0.2, unit: 's' }]);
      expect(await store.sampleKeys('health')).toEqual([
        { task: 'health', key: 'mem', unit: 'bytes', better: 'lower', lastAt: T0 + 5, lastValue: 30 },
        { task: 'health', key: 'up', unit: null, better: 'higher', lastAt: T0, lastValue: 1 },
      ]);
      expect((await store.sampleKeys()).map((k) => `${k.task}/${k.key}`)).toEqual([
        'health/mem',
        'health/up',
        'web/p95',
      ]);
    });

    it('prunes the values before an instant, and only those', async () => {
      const store = await fresh(make);
      for (let i = 0; i < 6; i++) await store.recordSamples('health', T0 + i, [{ key: 'x', value: i }]);
      expect(await store.pruneSamples(T0 + 4)).toBe(4);
      expect(await store.sampleSeries('health', 'x', 0)).toEqual([
        { at: T0 + 4, value: 4 },
        { at: T0 + 5, value: 5 },
      ]);
    });
  });
}
