/**
 * The Store contract, on SQLite. Another store implementation must pass the same tests: the
 * cases take a factory.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import type { NewRun, Store } from '../../src/store/types.js';
import { tempDir } from '../support/tmp.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 24);
const factories: [string, () => Store][] = [
  ['sqlite', () => new SqliteStore(join(tempDir('ct-store-'), 'state', 'caretaker.db'))],
];

const queued = (over: Partial<NewRun> = {}): NewRun => ({
  task: 'job',
  host: 'h1',
  trigger: 'schedule',
  scheduledFor: T0,
  notBefore: T0,
  queuedAt: T0,
  status: 'queued',
  attempt: 1,
  dryRun: false,
  pid: 42,
  claimFire: true,
  ...over,
});

describe.each(factories)('store contract: %s', (_name, make) => {
  it('takes a run from queued to finished, with task state and the claimed fire', async () => {
    const store = make();
    const run = await store.insertRun(queued());
    expect(run).toMatchObject({ status: 'queued', startedAt: null, attempt: 1 });
    expect((await store.taskStates('h1')).get('job')).toMatchObject({ lastFire: T0, lastStatus: null });
    await store.startRun(run.id, T0 + 10, 42);
    expect(await store.activeRuns('h1')).toMatchObject([
      { id: run.id, status: 'running', startedAt: T0 + 10 },
    ]);
    const done = await store.finishRun(run.id, {
      status: 'success',
      finishedAt: T0 + 1_010,
      durationMs: 1_000,
      exitCode: 0,
      outputTail: 'ok',
      result: { ok: true, summary: 'fine' },
    });
    expect(done).toMatchObject({
      status: 'success',
      durationMs: 1_000,
      result: { ok: true, summary: 'fine' },
    });
    expect((await store.taskStates('h1')).get('job')).toMatchObject({
      lastStatus: 'success',
      lastSuccessAt: T0 + 1_010,
      consecutiveFailures: 0,
      lastStartedAt: T0 + 10,
    });
    expect(await store.activeRuns('h1')).toEqual([]);
    await store.close();
  });

  it('counts consecutive failures and keeps dry runs out of task state and metrics', async () => {
    const store = make();
    for (let i = 0; i < 3; i++) {
      const r = await store.insertRun(queued({ scheduledFor: T0 + i }));
      await store.finishRun(r.id, {
        status: i === 0 ? 'success' : 'failed',
        finishedAt: T0 + i,
        durationMs: 100,
      });
    }
    const dry = await store.insertRun(queued({ dryRun: true, scheduledFor: null, claimFire: false }));
    await store.finishRun(dry.id, { status: 'success', finishedAt: T0 + 10, durationMs: 5 });
    expect((await store.taskStates('h1')).get('job')).toMatchObject({
      lastStatus: 'failed',
      consecutiveFailures: 2,
    });
    expect(await store.recentRuns('job', 50)).toEqual({ runs: 3, successes: 1, medianDurationMs: 100 });
    const [stats] = await store.dailyStats(Math.floor(T0 / DAY));
    expect(stats).toMatchObject({
      task: 'job',
      runs: 3,
      successes: 1,
      failures: 2,
      totalMs: 300,
      maxMs: 100,
    });
    await store.close();
  });

  it('prunes by age and by count per task, never queued or running rows', async () => {
    const store = make();
    for (let d = 0; d < 10; d++) {
      const r = await store.insertRun(queued({ scheduledFor: T0 + d * DAY, queuedAt: T0 + d * DAY }));
      await store.finishRun(r.id, { status: 'success', finishedAt: T0 + d * DAY, durationMs: 1 });
    }
    const waiting = await store.insertRun(queued({ queuedAt: T0 - 100 * DAY }));
    const aged = await store.prune({ now: T0 + 9 * DAY, keepDays: 5, keepRunsPerTask: 1000 });
    expect(aged.runsDeleted).toBe(4); // finished before day 4
    const counted = await store.prune({ now: T0 + 9 * DAY, keepDays: 90, keepRunsPerTask: 3 });
    expect(counted.runsDeleted).toBe(3);
    const left = await store.listRuns({ task: 'job', limit: 100 });
    expect(left.map((r) => r.id)).toContain(waiting.id);
    expect(left.filter((r) => r.status === 'success')).toHaveLength(3);
    await store.close();
  });

  it('pages history newest first and filters by status', async () => {
    const store = make();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await store.insertRun(queued({ task: i % 2 ? 'b' : 'a' }));
      ids.push(r.id);
      await store.finishRun(r.id, { status: i === 4 ? 'failed' : 'success', finishedAt: T0 + i });
    }
    expect((await store.listRuns({ limit: 2 })).map((r) => r.id)).toEqual([ids[4], ids[3]]);
    expect((await store.listRuns({ limit: 10, beforeId: ids[3] })).map((r) => r.id)).toEqual([
      ids[2],
      ids[1],
      ids[0],
    ]);
    expect((await store.listRuns({ limit: 10, task: 'b' })).map((r) => r.id)).toEqual([ids[3], ids[1]]);
    expect((await store.listRuns({ limit: 10, statuses: ['failed'] })).map((r) => r.id)).toEqual([ids[4]]);
    await store.close();
  });
});

describe('sqlite store: migrations', () => {
  it('two processes opening a new database at once apply each migration exactly once', async () => {
    const path = join(tempDir('ct-store-'), 'caretaker.db');
    const { spawn } = await import('node:child_process');
    const script = `import('${new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url).href}').then(m => { new m.SqliteStore(process.argv[1]); })`;
    const open = () =>
      new Promise<number>((r) =>
        spawn(process.execPath, ['-e', script, path], { stdio: 'inherit' }).on('exit', (c) => r(c ?? 1)),
      );
    expect(await Promise.all([open(), open(), open()])).toEqual([0, 0, 0]);
    const store = new SqliteStore(path);
    expect(store.database.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    await store.close();
  });

  it('upgrades a database written by an earlier version in place, keeping its history', async () => {
    const path = join(tempDir('ct-store-'), 'caretaker.db');
    const Database = (await import('better-sqlite3')).default;
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old
      .prepare(
        `INSERT INTO runs (task, host, trigger, queued_at, status) VALUES ('job', 'h1', 'manual', 1, 'success')`,
      )
      .run();
    old.close();
    const store = new SqliteStore(path);
    expect(store.database.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(await store.listRuns({ limit: 10 })).toMatchObject([
      { task: 'job', status: 'success', childPgid: null },
    ]);
    await store.close();
  });

  it('refuses a database written by a newer caretaker, saying so', async () => {
    const path = join(tempDir('ct-store-'), 'caretaker.db');
    const store = new SqliteStore(path);
    store.database.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    await store.close();
    expect(() => new SqliteStore(path)).toThrow(/written by a newer caretaker/);
  });
});
