/** The runs role (RunsStore): runs, task state, fire claims, recent-run figures, run pruning. */
import { describe, expect, it } from 'vitest';
import type { RunsStore } from '../../../src/store/types.js';
import { DAY, T0, fresh, queued, ran, type StoreFactory } from './harness.js';

export function describeRunsConformance(name: string, make: StoreFactory<RunsStore>): void {
  describe(`runs role: ${name}`, () => {
    it('takes a run from queued to finished, with task state and the claimed fire', async () => {
      const store = await fresh(make);
      const run = await store.insertRun(queued());
      expect(run).toMatchObject({ status: 'queued', startedAt: null, attempt: 1, task: 'job', host: 'h1' });
      expect(run.id).toBeGreaterThan(0);
      expect((await store.taskStates('h1')).get('job')).toMatchObject({ lastFire: T0, lastStatus: null });
      await store.startRun(run.id, T0 + 10, 4242);
      expect(await store.activeRuns('h1')).toMatchObject([
        { id: run.id, status: 'running', startedAt: T0 + 10, pid: 4242 },
      ]);
      expect((await store.taskStates('h1')).get('job')).toMatchObject({ lastStartedAt: T0 + 10 });
      const done = await store.finishRun(run.id, {
        status: 'success',
        finishedAt: T0 + 1_010,
        durationMs: 1_000,
        exitCode: 0,
        outputTail: 'ok\n',
        result: { ok: true, summary: 'fine', changed: true, details: { n: [1, 2] } },
      });
      expect(done).toMatchObject({
        status: 'success',
        finishedAt: T0 + 1_010,
        durationMs: 1_000,
        exitCode: 0,
        outputTail: 'ok\n',
        result: { ok: true, summary: 'fine', changed: true, details: { n: [1, 2] } },
      });
      expect(await store.getRun(run.id)).toEqual(done);
      expect((await store.taskStates('h1')).get('job')).toMatchObject({
        lastStatus: 'success',
        lastRunId: run.id,
        lastFinishedAt: T0 + 1_010,
        lastSuccessAt: T0 + 1_010,
        lastFailureAt: null,
        consecutiveFailures: 0,
        lastStartedAt: T0 + 10,
      });
      expect(await store.activeRuns('h1')).toEqual([]);
    });

    it('keeps output holding a NUL byte whole, the NUL as U+FFFD (PostgreSQL refuses it, node:sqlite cuts there)', async () => {
      const store = await fresh(make);
      const run = await store.insertRun(queued());
      await store.startRun(run.id, T0 + 10, 1);
      await store.finishRun(run.id, {
        status: 'failed',
        finishedAt: T0 + 20,
        outputTail: 'a\u0000b',
        reason: 'r\u0000s',
        result: { ok: false, summary: 'x\u0000y' },
      });
      expect(await store.getRun(run.id)).toMatchObject({
        outputTail: 'a\uFFFDb',
        reason: 'r\uFFFDs',
        result: { summary: 'x\uFFFDy' },
      });
    });

    it('returns nothing for a run that does not exist, and refuses to finish one', async () => {
      const store = await fresh(make);
      expect(await store.getRun(999_999)).toBeUndefined();
      await expect(store.finishRun(999_999, { status: 'success', finishedAt: T0 })).rejects.toThrow(/999999/);
      expect(await store.listRuns({ limit: 10 })).toEqual([]);
    });

    it('counts consecutive failures, resets them on success, and keeps dry runs, rollbacks and restores out', async () => {
      const store = await fresh(make);
      const statuses = ['success', 'failed', 'timeout', 'interrupted'] as const;
      for (const [i, status] of statuses.entries()) await ran(store, { status, finishedAt: T0 + i });
      await ran(store, { status: 'success', finishedAt: T0 + 10 }, { dryRun: true });
      await ran(store, { status: 'success', finishedAt: T0 + 11 }, { trigger: 'rollback' });
      await ran(store, { status: 'success', finishedAt: T0 + 12 }, { trigger: 'restore' });
      expect((await store.taskStates('h1')).get('job')).toMatchObject({
        lastStatus: 'interrupted',
        consecutiveFailures: 3,
        lastSuccessAt: T0,
        lastFailureAt: T0 + 3,
      });
      await ran(store, { status: 'warning', finishedAt: T0 + 20 });
      expect((await store.taskStates('h1')).get('job')).toMatchObject({
        lastStatus: 'warning',
        consecutiveFailures: 0,
        lastSuccessAt: T0 + 20,
        lastFailureAt: T0 + 3,
      });
    });

    it('leaves task state alone for skipped and cancelled runs', async () => {
      const store = await fresh(make);
      await ran(store, { status: 'failed', finishedAt: T0 });
      await ran(store, { status: 'skipped', finishedAt: T0 + 1, reason: 'outside its window' });
      await ran(store, { status: 'cancelled', finishedAt: T0 + 2 });
      expect((await store.taskStates('h1')).get('job')).toMatchObject({
        lastStatus: 'failed',
        consecutiveFailures: 1,
      });
      const [skipped] = await store.listRuns({ limit: 1, statuses: ['skipped'] });
      expect(skipped).toMatchObject({ status: 'skipped', reason: 'outside its window' });
    });

    it('keeps task state per host', async () => {
      const store = await fresh(make);
      await ran(store, { status: 'failed', finishedAt: T0 }, { host: 'h1' });
      await ran(store, { status: 'success', finishedAt: T0 }, { host: 'h2' });
      expect((await store.taskStates('h1')).get('job')?.lastStatus).toBe('failed');
      expect((await store.taskStates('h2')).get('job')?.lastStatus).toBe('success');
      expect((await store.taskStates('h3')).size).toBe(0);
    });

    it('figures recent executions: success count and median duration, newest first up to the limit', async () => {
      const store = await fresh(make);
      const runs = [
        ['success', 100],
        ['failed', 300],
        ['success', 200],
        ['timeout', 900],
      ] as const;
      for (const [i, [status, ms]] of runs.entries())
        await ran(store, { status, finishedAt: T0 + i, durationMs: ms });
      await ran(store, { status: 'success', finishedAt: T0 + 9, durationMs: 1 }, { dryRun: true });
      await ran(store, { status: 'skipped', finishedAt: T0 + 9, durationMs: 1 });
      expect(await store.recentRuns('job', 50)).toEqual({ runs: 4, successes: 2, medianDurationMs: 200 });
      // The two newest: timeout 900 and success 200.
      expect(await store.recentRuns('job', 2)).toEqual({ runs: 2, successes: 1, medianDurationMs: 200 });
      expect(await store.recentRuns('other', 50)).toEqual({ runs: 0, successes: 0, medianDurationMs: null });
    });

    it('pages history newest first and filters by task, host and status', async () => {
      const store = await fresh(make);
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(
          await ran(
            store,
            { status: i === 4 ? 'failed' : 'success', finishedAt: T0 + i },
            { task: i % 2 ? 'b' : 'a', host: i === 0 ? 'h2' : 'h1' },
          ),
        );
      }
      expect((await store.listRuns({ limit: 2 })).map((r) => r.id)).toEqual([ids[4], ids[3]]);
      expect((await store.listRuns({ limit: 10, beforeId: ids[3] })).map((r) => r.id)).toEqual([
        ids[2],
        ids[1],
        ids[0],
      ]);
      expect((await store.listRuns({ limit: 10, task: 'b' })).map((r) => r.id)).toEqual([ids[3], ids[1]]);
      expect((await store.listRuns({ limit: 10, host: 'h2' })).map((r) => r.id)).toEqual([ids[0]]);
      expect((await store.listRuns({ limit: 10, statuses: ['failed'] })).map((r) => r.id)).toEqual([ids[4]]);
      expect(
        (await store.listRuns({ limit: 10, statuses: ['failed', 'success'], task: 'a' })).map((r) => r.id),
      ).toEqual([ids[4], ids[2], ids[0]]);
      await expect(store.listRuns({ limit: 10, statuses: ['bogus' as never] })).rejects.toThrow(/bogus/);
    });

    it('reads the last N runs of every task asked for in one call, newest first, of one host when asked', async () => {
      const store = await fresh(make);
      const ids: Record<string, number[]> = { a: [], b: [], c: [] };
      // Interleaved: 5 runs of a, 3 of b (the second on h2, a dry run), 1 of c; d has none.
      for (let i = 0; i < 9; i++) {
        const task = i < 5 ? 'a' : i < 8 ? 'b' : 'c';
        const own = i < 5 ? i : i - 5;
        ids[task]!.push(
          await ran(
            store,
            { status: own === 1 ? 'failed' : 'success', finishedAt: T0 + i, durationMs: 100 + i },
            { task, host: task === 'b' && own === 1 ? 'h2' : 'h1', dryRun: task === 'b' && own === 1 },
          ),
        );
      }
      // One still running: it is among the last runs, with no duration yet.
      const running = await store.insertRun(queued({ task: 'a', status: 'running', startedAt: T0 + 20 }));
      const last = await store.lastRunsOfTasks({ tasks: ['a', 'b', 'c', 'd'], limit: 3 });
      expect([...last.keys()]).toEqual(['a', 'b', 'c', 'd']);
      expect(last.get('a')!.map((r) => r.id)).toEqual([running.id, ids.a![4], ids.a![3]]);
      expect(last.get('b')!.map((r) => r.id)).toEqual([ids.b![2], ids.b![1], ids.b![0]]);
      expect(last.get('c')!.map((r) => r.id)).toEqual([ids.c![0]]);
      expect(last.get('d')).toEqual([]);
      expect(last.get('a')![0]).toEqual({ id: running.id, task: 'a', status: 'running', durationMs: null });
      expect(last.get('b')![1]).toEqual({ id: ids.b![1], task: 'b', status: 'failed', durationMs: 106 });
      // Of one host: b's run on h2 is left out, and the limit still counts that host's runs only.
      const h1 = await store.lastRunsOfTasks({ tasks: ['a', 'b'], limit: 2, host: 'h1' });
      expect(h1.get('b')!.map((r) => r.id)).toEqual([ids.b![2], ids.b![0]]);
      expect(h1.get('a')!.map((r) => r.id)).toEqual([running.id, ids.a![4]]);
      expect((await store.lastRunsOfTasks({ tasks: ['b'], limit: 5, host: 'h2' })).get('b')!.length).toBe(1);
      // Tasks not asked for are not read; none asked, none read.
      expect([...(await store.lastRunsOfTasks({ tasks: ['c'], limit: 5 })).keys()]).toEqual(['c']);
      expect((await store.lastRunsOfTasks({ tasks: [], limit: 5 })).size).toBe(0);
      // A task id with quotes and a comma is one id (bound, not spliced into the statement).
      await ran(store, { status: 'success', finishedAt: T0 + 30 }, { task: `it's "x", y` });
      expect(
        (await store.lastRunsOfTasks({ tasks: [`it's "x", y`], limit: 5 })).get(`it's "x", y`)!.length,
      ).toBe(1);
    });

    it('lists the active runs of one host, oldest first', async () => {
      const store = await fresh(make);
      const a = await store.insertRun(queued({ queuedAt: T0 }));
      const b = await store.insertRun(queued({ queuedAt: T0 + 1, status: 'running', startedAt: T0 + 1 }));
      await store.insertRun(queued({ host: 'h2' }));
      await ran(store, { status: 'success', finishedAt: T0 + 2 });
      expect((await store.activeRuns('h1')).map((r) => [r.id, r.status])).toEqual([
        [a.id, 'queued'],
        [b.id, 'running'],
      ]);
      // A run inserted as running counts as started.
      expect((await store.taskStates('h1')).get('job')?.lastStartedAt).toBe(T0 + 1);
    });

    it('claims fires monotonically, with or without a run', async () => {
      const store = await fresh(make);
      await store.claimFire('job', 'h1', T0 + 5 * DAY);
      await store.claimFire('job', 'h1', T0 + DAY); // an older fire never moves it back
      expect((await store.taskStates('h1')).get('job')?.lastFire).toBe(T0 + 5 * DAY);
      await store.insertRun(queued({ scheduledFor: T0 + 6 * DAY }));
      expect((await store.taskStates('h1')).get('job')?.lastFire).toBe(T0 + 6 * DAY);
      await store.insertRun(queued({ scheduledFor: T0 + 9 * DAY, claimFire: false }));
      expect((await store.taskStates('h1')).get('job')?.lastFire).toBe(T0 + 6 * DAY);
    });

    it('moves a queued run and records the process group it started', async () => {
      const store = await fresh(make);
      const run = await store.insertRun(queued());
      await store.setNotBefore(run.id, T0 + 30_000);
      await store.startRun(run.id, T0 + 30_000, 77);
      await store.setChildProcess(run.id, 1234, 'Tue Nov 24 00:00:30 2026');
      expect(await store.getRun(run.id)).toMatchObject({
        notBefore: T0 + 30_000,
        pid: 77,
        childPgid: 1234,
        childStarted: 'Tue Nov 24 00:00:30 2026',
      });
    });

    it('keeps a dry run out of task state when it starts', async () => {
      const store = await fresh(make);
      const run = await store.insertRun(queued({ dryRun: true, claimFire: false }));
      await store.startRun(run.id, T0 + 10, 42);
      expect((await store.taskStates('h1')).get('job')?.lastStartedAt ?? null).toBeNull();
      expect((await store.getRun(run.id))?.dryRun).toBe(true);
    });

    it('prunes by age and by count per task, never queued or running runs', async () => {
      const store = await fresh(make);
      for (let d = 0; d < 10; d++) await ran(store, { status: 'success', finishedAt: T0 + d * DAY });
      await ran(store, { status: 'success', finishedAt: T0 }, { task: 'other' });
      const waiting = await store.insertRun(queued({ queuedAt: T0 - 100 * DAY }));
      const running = await store.insertRun(queued({ status: 'running', startedAt: T0 - 100 * DAY }));
      expect(await store.pruneRuns({ before: T0 + 4 * DAY, keepRunsPerTask: 1000 })).toBe(5); // days 0-3 and other
      expect(await store.pruneRuns({ before: T0, keepRunsPerTask: 3 })).toBe(3);
      const left = await store.listRuns({ limit: 100 });
      expect(left.map((r) => r.id)).toEqual(expect.arrayContaining([waiting.id, running.id]));
      expect(left.filter((r) => r.status === 'success').map((r) => r.finishedAt)).toEqual([
        T0 + 9 * DAY,
        T0 + 8 * DAY,
        T0 + 7 * DAY,
      ]);
    });
  });
}
