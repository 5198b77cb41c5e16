/** The pauses role (PausesStore): tasks kept from starting until resumed, one row per task. */
import { describe, expect, it } from 'vitest';
import type { PausesStore } from '../../../src/store/types.js';
import { fresh, T0, type StoreFactory } from './harness.js';

export function describePausesConformance(name: string, make: StoreFactory<PausesStore>): void {
  describe(`pauses role: ${name}`, () => {
    it('has no pauses at first; a pause is listed with who, why and since when', async () => {
      const store = await fresh(make);
      expect(await store.listPauses()).toEqual([]);
      const r = await store.pauseTask('backup', { by: 'alice', reason: 'disk swap', at: T0 });
      expect(r).toEqual({
        paused: true,
        record: { task: 'backup', by: 'alice', reason: 'disk swap', at: T0 },
      });
      await store.pauseTask('archive', { by: 'bob', reason: null, at: T0 + 5 });
      expect(await store.listPauses()).toEqual([
        { task: 'archive', by: 'bob', reason: null, at: T0 + 5 },
        { task: 'backup', by: 'alice', reason: 'disk swap', at: T0 },
      ]);
    });

    it('pausing a paused task keeps the first pause and says it changed nothing', async () => {
      const store = await fresh(make);
      await store.pauseTask('backup', { by: 'alice', reason: 'first', at: T0 });
      const again = await store.pauseTask('backup', { by: 'bob', reason: 'second', at: T0 + 1000 });
      expect(again).toEqual({
        paused: false,
        record: { task: 'backup', by: 'alice', reason: 'first', at: T0 },
      });
      expect(await store.listPauses()).toHaveLength(1);
    });

    it('resuming returns the pause that ended, once; resuming a task not paused returns nothing', async () => {
      const store = await fresh(make);
      expect(await store.resumeTask('backup')).toBeUndefined();
      await store.pauseTask('backup', { by: 'alice', reason: 'r', at: T0 });
      await store.pauseTask('other', { by: 'alice', reason: null, at: T0 });
      expect(await store.resumeTask('backup')).toEqual({ task: 'backup', by: 'alice', reason: 'r', at: T0 });
      expect(await store.resumeTask('backup')).toBeUndefined();
      expect((await store.listPauses()).map((p) => p.task)).toEqual(['other']);
      // Paused again after a resume: the new pause is the one kept.
      const r = await store.pauseTask('backup', { by: 'carol', reason: 'again', at: T0 + 9 });
      expect(r.paused).toBe(true);
      expect(r.record.by).toBe('carol');
    });

    it('keeps a reason exactly (quotes, newlines, non-ASCII); a NUL becomes U+FFFD as everywhere', async () => {
      const store = await fresh(make);
      const reason = `it's "quoted"\nsecond line é ✓`;
      await store.pauseTask('t', { by: "o'brien", reason, at: T0 });
      await store.pauseTask('n', { by: 'x', reason: 'a\u0000b', at: T0 });
      const byTask = new Map((await store.listPauses()).map((p) => [p.task, p]));
      expect(byTask.get('t')).toMatchObject({ by: "o'brien", reason });
      expect(byTask.get('n')!.reason).toBe('a\uFFFDb');
    });

    it('two pauses of one task at once: one wins, the other is told it was already paused', async () => {
      const store = await fresh(make);
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((by, i) => store.pauseTask('race', { by, reason: null, at: T0 + i })),
      );
      expect(results.filter((r) => r.paused)).toHaveLength(1);
      const winner = results.find((r) => r.paused)!.record;
      for (const r of results) expect(r.record).toEqual(winner);
      expect(await store.listPauses()).toEqual([winner]);
    });
  });
}
