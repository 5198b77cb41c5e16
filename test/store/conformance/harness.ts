/**
 * What every conformance suite takes: a factory that opens a fresh, empty store of one driver
 * (its own file, schema or database) and a cleanup that closes and removes it. The suites know
 * nothing of SQLite: the PostgreSQL store passes the same functions its own factory.
 */
import { onTestFinished } from 'vitest';
import type { NewRun, RunFinish, RunsStore } from '../../../src/store/types.js';

export interface StoreUnderTest<S> {
  readonly store: S;
  cleanup(): Promise<void>;
}

export type StoreFactory<S> = () => Promise<StoreUnderTest<S>>;

/** Opens a store for the current test and closes it when the test ends. */
export async function fresh<S>(make: StoreFactory<S>): Promise<S> {
  const { store, cleanup } = await make();
  onTestFinished(() => cleanup());
  return store;
}

export const DAY = 86_400_000;
/** A Tuesday, midnight UTC. */
export const T0 = Date.UTC(2026, 10, 24);
export const DAY0 = T0 / DAY;

export const queued = (over: Partial<NewRun> = {}): NewRun => ({
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

/** Inserts a run and finishes it in one go. */
export async function ran(
  store: RunsStore,
  finish: Partial<RunFinish> & { finishedAt: number },
  over: Partial<NewRun> = {},
): Promise<number> {
  const r = await store.insertRun(queued({ queuedAt: finish.finishedAt, scheduledFor: null, ...over }));
  await store.finishRun(r.id, { status: 'success', durationMs: 10, ...finish });
  return r.id;
}
