/**
 * The backlog at the store boundary, on a real SQLite file whose database is capped with
 * max_page_count (a full disk any user can make; the real full filesystem is in
 * test/daemon/full-disk.test.ts): refused writes are answered from memory, in order, with
 * provisional ids; reads see them; one line and one alert per incident; once space returns the
 * backlog is written with real ids (on the retry timer, or before the next write).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/engine/silent-logger.js';
import { StoreBacklog } from '../../src/engine/store-backlog.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreFullError } from '../../src/store/store-full-error.js';
import { advance } from '../support/clock-driver.js';
import { tempDir } from '../support/tmp.js';
import { queued, T0 } from '../store/conformance/harness.js';

function setup() {
  const file = join(tempDir('ct-backlog-'), 'caretaker.db');
  const sqlite = new SqliteStore(file);
  const clock = new ManualClock(T0);
  const said: string[] = [];
  const alerts: string[] = [];
  const backlog = new StoreBacklog(sqlite, {
    clock,
    logger: silentLogger(),
    say: (l) => said.push(l),
    alert: (m) => alerts.push(m),
    retryEveryMs: 10_000,
    maxWrites: 50,
  });
  const pages = () => Number(sqlite.database.pragmaValue('page_count'));
  return {
    file,
    clock,
    said,
    alerts,
    backlog,
    store: backlog.store,
    fill: () => sqlite.database.pragma(`max_page_count = ${pages()}`),
    free: () => sqlite.database.pragma(`max_page_count = ${pages() + 10_000}`),
  };
}

const big = (c: string) => c.repeat(200 * 1024);

describe('store backlog (history disk full)', () => {
  it('answers refused writes from memory, tells once, and writes them with real ids when space returns', async () => {
    const t = setup();
    const before = await t.store.insertRun(queued());
    t.fill();
    // A run queued before the disk filled finishes; a new one is queued, started and finished.
    const done = await t.store.finishRun(before.id, {
      status: 'success',
      finishedAt: T0 + 5,
      durationMs: 5,
      outputTail: big('a'),
    });
    expect(done).toMatchObject({ id: before.id, status: 'success', durationMs: 5 });
    const fresh = await t.store.insertRun(queued({ scheduledFor: T0 + 60_000, reason: big('r') }));
    expect(fresh.id).toBeLessThan(0);
    await t.store.startRun(fresh.id, T0 + 60_000, 42);
    const failed = await t.store.finishRun(fresh.id, {
      status: 'failed',
      finishedAt: T0 + 61_000,
      reason: 'boom',
    });
    expect(failed).toMatchObject({ id: fresh.id, status: 'failed', startedAt: T0 + 60_000, reason: 'boom' });
    expect(await t.store.getRun(fresh.id)).toEqual(failed);
    expect((await t.store.listRuns({ limit: 10 })).map((r) => [r.id, r.status])).toEqual([
      [fresh.id, 'failed'],
      [before.id, 'success'],
    ]);
    expect(t.backlog.waiting).toBe(4);
    expect(t.said).toHaveLength(1);
    expect(t.said[0]).toMatch(
      /^caretaker: the history cannot be written \(.*disk is full.*\); run results are kept in memory/,
    );
    expect(t.alerts).toHaveLength(1);

    // Still full at the retry: nothing more said.
    await advance(t.clock, 10_000);
    expect(t.backlog.waiting).toBe(4);
    expect(t.said).toHaveLength(1);

    t.free();
    await advance(t.clock, 10_000);
    expect(t.backlog.waiting).toBe(0);
    expect(t.said[1]).toBe('caretaker: the history is writable again: 4 kept writes recorded');
    const runs = await t.store.listRuns({ limit: 10 });
    expect(runs.map((r) => [r.id, r.status, r.reason])).toEqual([
      [2, 'failed', 'boom'],
      [1, 'success', null],
    ]);
    expect(runs[1]!.outputTail).toBe(big('a'));
    expect((await t.store.taskStates('h1')).get('job')).toMatchObject({
      consecutiveFailures: 1,
      lastRunId: 2,
    });
    expect(t.alerts).toHaveLength(1);
    await t.store.close();
  });

  it('inserts a burst in one write, or each run in order behind writes that wait', async () => {
    const t = setup();
    const [a, b] = await t.store.insertRuns([queued(), queued({ task: 'other' })]);
    expect([a!.id, b!.id]).toEqual([1, 2]);
    expect(t.backlog.waiting).toBe(0);
    t.fill();
    // Refused as one write: each run is kept in memory, with a provisional id, in order.
    const kept = await t.store.insertRuns([
      queued({ task: 'big', reason: big('r') }),
      queued({ task: 'small', scheduledFor: T0 + 5 }),
    ]);
    expect(kept.map((r) => r.id)).toEqual([-1, -2]);
    expect(t.backlog.waiting).toBe(2);
    expect((await t.store.activeRuns('h1')).map((r) => r.task)).toEqual(['job', 'other', 'big', 'small']);
    t.free();
    await advance(t.clock, 10_000);
    expect(t.backlog.waiting).toBe(0);
    expect((await t.store.activeRuns('h1')).map((r) => [r.id, r.task])).toEqual([
      [1, 'job'],
      [2, 'other'],
      [3, 'big'],
      [4, 'small'],
    ]);
    await t.store.close();
  });

  it('starts a burst in one write, or each start in order behind writes that wait', async () => {
    const t = setup();
    const a = await t.store.insertRun(queued());
    const b = await t.store.insertRun(queued({ task: 'other' }));
    // Nothing waits: one write, seen at once.
    await t.store.startRuns([a.id, b.id], T0 + 10, 42);
    expect((await t.store.activeRuns('h1')).map((r) => [r.id, r.status])).toEqual([
      [a.id, 'running'],
      [b.id, 'running'],
    ]);
    expect(t.backlog.waiting).toBe(0);
    const c = await t.store.insertRun(queued({ task: 'third' }));
    t.fill();
    const late = await t.store.insertRun(queued({ task: 'late', reason: big('r') }));
    expect(late.id).toBeLessThan(0);
    // A write waits: the starts (one of a run the store knows, one of the run kept in memory)
    // wait behind it, in order, and reads see them.
    await t.store.startRuns([c.id, late.id], T0 + 20, 42);
    expect(t.backlog.waiting).toBe(3);
    expect(
      (await t.store.activeRuns('h1')).filter((r) => r.startedAt === T0 + 20).map((r) => r.task),
    ).toEqual(['third', 'late']);
    t.free();
    await advance(t.clock, 10_000);
    expect(t.backlog.waiting).toBe(0);
    const active = await t.store.activeRuns('h1');
    expect(active.map((r) => [r.task, r.status, r.startedAt])).toEqual([
      ['job', 'running', T0 + 10],
      ['other', 'running', T0 + 10],
      ['third', 'running', T0 + 20],
      ['late', 'running', T0 + 20],
    ]);
    expect(active.every((r) => r.id > 0)).toBe(true);
    await t.store.close();
  });

  it('a later write first writes the backlog (in order), without waiting for the timer', async () => {
    const t = setup();
    t.fill();
    const a = await t.store.insertRun(queued({ reason: big('x') }));
    await t.store.finishRun(a.id, { status: 'success', finishedAt: T0 + 1 });
    t.free();
    const b = await t.store.insertRun(queued({ scheduledFor: T0 + 60_000 }));
    expect(b.id).toBe(2);
    expect((await t.store.listRuns({ limit: 10 })).map((r) => [r.id, r.status])).toEqual([
      [2, 'queued'],
      [1, 'success'],
    ]);
    await t.store.close();
  });

  it('keeps at most maxWrites; what it had to let go is said when it writes again', async () => {
    const t = setup();
    t.fill();
    for (let i = 0; i < 60; i++)
      await t.store.recordPing({ name: 'sync', at: T0 + i, ok: true, source: 'cli', message: big('p') });
    expect(t.backlog.waiting).toBe(50);
    t.free();
    await advance(t.clock, 10_000);
    expect(t.said[1]).toBe(
      'caretaker: the history is writable again: 50 kept writes recorded; 10 could not be kept and are lost',
    );
    await t.store.close();
  });

  it('keeps no fleet write: a claim fails loudly while full, and a run kept in memory is not attached', async () => {
    const t = setup();
    const claim = { task: 'vacuum', slot: T0, host: 'h1', instance: 'i-a', now: T0, leaseMs: 15_000 };
    expect(await t.store.claimSlot(claim)).toMatchObject({ state: 'held' });
    t.fill();
    // A claim answered from memory would be one no other host sees.
    await expect(t.store.claimSlot({ ...claim, task: big('t') })).rejects.toBeInstanceOf(StoreFullError);
    expect(t.backlog.waiting).toBe(0);
    const run = await t.store.insertRun(queued({ reason: big('r') }));
    expect(run.id).toBeLessThan(0);
    await expect(t.store.attachRun('vacuum', T0, 'i-a', run.id)).rejects.toThrow(
      `run #${run.id} of vacuum is not in the history yet`,
    );
    // Reads go through to the store.
    expect(await t.store.getClaim('vacuum', T0)).toMatchObject({ runId: null, instance: 'i-a' });
    t.free();
    await advance(t.clock, 10_000);
    expect(t.backlog.waiting).toBe(0);
    await t.store.attachRun('vacuum', T0, 'i-a', 1);
    expect(await t.store.getClaim('vacuum', T0)).toMatchObject({ runId: 1 });
    await t.store.close();
  });

  it('closing while still full says how many writes are lost, and closes', async () => {
    const t = setup();
    t.fill();
    await t.store.recordPing({ name: 'sync', at: T0, ok: true, source: 'cli', message: big('p') });
    await t.store.close();
    expect(t.said.at(-1)).toBe(
      'caretaker: 1 history write could not be recorded (the disk is still full) and is lost',
    );
    const reopened = new SqliteStore(t.file, { readonly: true });
    expect(await reopened.lastPings()).toEqual(new Map());
    await reopened.close();
  });
});
