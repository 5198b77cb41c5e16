/**
 * A person who runs a task and waits (`run-task --wait`) hears the last attempt. The engine
 * records an attempt's end first and decides about a retry after: a waiter that asks in between
 * reads a finished, failed run from the store, and must still wait for the retry.
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RunWaiters } from '../../src/engine/run-waiters.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRecord } from '../../src/store/types.js';
import { tempDir } from '../support/tmp.js';

async function openStore(): Promise<SqliteStore> {
  const store = new SqliteStore(join(tempDir('ct-waiters-'), 'caretaker.db'));
  onTestFinished(() => store.close());
  return store;
}

function queued(store: SqliteStore, attempt: number): Promise<RunRecord> {
  return store.insertRun({
    task: 'flaky',
    host: 'h',
    trigger: attempt === 1 ? 'manual' : 'retry',
    scheduledFor: null,
    notBefore: null,
    queuedAt: 1,
    status: 'queued',
    attempt,
    dryRun: false,
    pid: null,
  });
}

describe('RunWaiters', () => {
  it('a follower that asks after the end is recorded but before the retry is decided hears the retry', async () => {
    const store = await openStore();
    const waiters = new RunWaiters((id) => store.getRun(id));
    const first = await queued(store, 1);
    waiters.settling(first.id);
    const failed = await store.finishRun(first.id, { status: 'failed', finishedAt: 2 });
    let heard: RunRecord | undefined;
    const waiting = waiters.wait(first.id, true).then((r) => (heard = r));
    await new Promise((r) => setImmediate(r));
    expect(heard).toBeUndefined(); // the store says failed, but the engine has not said its last word
    const retry = await queued(store, 2);
    waiters.settled(failed, retry);
    waiters.settled(await store.finishRun(retry.id, { status: 'success', finishedAt: 3 }));
    await waiting;
    expect(heard).toMatchObject({ id: retry.id, attempt: 2, status: 'success' });
  });

  it('a waiter that does not follow retries hears the attempt it asked for', async () => {
    const store = await openStore();
    const waiters = new RunWaiters((id) => store.getRun(id));
    const first = await queued(store, 1);
    const waiting = waiters.wait(first.id, false);
    waiters.settling(first.id);
    const failed = await store.finishRun(first.id, { status: 'failed', finishedAt: 2 });
    waiters.settled(failed, await queued(store, 2));
    expect(await waiting).toMatchObject({ id: first.id, status: 'failed' });
  });

  it('a run that finished long ago is answered from the store at once', async () => {
    const store = await openStore();
    const waiters = new RunWaiters((id) => store.getRun(id));
    const first = await queued(store, 1);
    await store.finishRun(first.id, { status: 'success', finishedAt: 2 });
    expect(await waiters.wait(first.id, true)).toMatchObject({ id: first.id, status: 'success' });
    await expect(waiters.wait(999, true)).rejects.toThrow('run #999 does not exist');
  });
});
