/**
 * The state dir's filesystem fills up: a write to the history fails with StoreFullError, keeps
 * nothing of itself (no half transaction), and the same open store writes again once space
 * returns. On a machine where the test may mount a 1 MiB tmpfs (root, as in CI) the disk is
 * really full; the second test simulates a full database with SQLite's max_page_count, which
 * any user can set, and runs everywhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreFullError } from '../../src/store/store-full-error.js';
import { tempDir } from '../support/tmp.js';
import { T0, queued } from './conformance/harness.js';
import { forEachSqliteDriver } from './sqlite-drivers.js';
import { fillUp } from '../support/full-disk.js';

function whyNoTmpfs(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = spawnSync('mount', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `mount is not available: ${probe.error.message}`;
  return undefined;
}

/** A 1 MiB tmpfs at `dir`, unmounted when the test ends; the reason when it cannot be had. */
function smallFilesystem(dir: string): string | undefined {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `mount -t tmpfs failed: ${r.stderr.trim()}`;
  onTestFinished(() => void spawnSync('umount', ['-l', dir]));
  return undefined;
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the write to fail');
}

const tmpfsReason = whyNoTmpfs();
if (tmpfsReason) console.warn(`[skipped] real full-disk store test: ${tmpfsReason}`);

forEachSqliteDriver((driver) => {
  describe(`sqlite store (${driver}) when its disk fills up`, () => {
    it.skipIf(tmpfsReason !== undefined)(
      `on a full tmpfs: the write fails with StoreFullError, keeps nothing, and succeeds once space returns${tmpfsReason ? ` (skipped: ${tmpfsReason})` : ''}`,
      async () => {
        const state = join(tempDir('ct-full-'), 'state');
        const noMount = smallFilesystem(state);
        expect(noMount).toBeUndefined();
        const store = new SqliteStore(join(state, 'caretaker.db'), { driver });
        const done = await store.insertRun(queued());
        await store.finishRun(done.id, { status: 'success', finishedAt: T0 + 1, durationMs: 1 });
        const pending = await store.insertRun(queued({ scheduledFor: T0 + 60_000 }));
        const stateBefore = (await store.taskStates('h1')).get('job');

        fillUp(join(state, 'filler'));
        const err = await caught(
          store.finishRun(pending.id, {
            status: 'failed',
            finishedAt: T0 + 2,
            durationMs: 1,
            outputTail: 'x'.repeat(64 * 1024),
          }),
        );
        expect(err).toBeInstanceOf(StoreFullError);
        expect((err as StoreFullError).exitCode).toBe(1);
        expect(['SQLITE_FULL', 'SQLITE_IOERR']).toContain((err as StoreFullError).code);
        await expect(store.insertRun(queued({ reason: 'y'.repeat(64 * 1024) }))).rejects.toBeInstanceOf(
          StoreFullError,
        );

        // Nothing of the failed transactions: the run is still queued, state and stats unchanged.
        expect(store.database.inTransaction).toBe(false);
        expect(await store.getRun(pending.id)).toMatchObject({ status: 'queued', outputTail: null });
        expect((await store.taskStates('h1')).get('job')).toEqual(stateBefore);
        expect(await store.dailyStats(0)).toMatchObject([{ runs: 1, failures: 0 }]);
        expect(await store.listRuns({ limit: 10 })).toHaveLength(2);

        rmSync(join(state, 'filler'));
        const finished = await store.finishRun(pending.id, {
          status: 'failed',
          finishedAt: T0 + 2,
          durationMs: 1,
          outputTail: 'x'.repeat(64 * 1024),
        });
        expect(finished.status).toBe('failed');
        expect((await store.taskStates('h1')).get('job')).toMatchObject({ consecutiveFailures: 1 });
        expect(await store.dailyStats(0)).toMatchObject([{ runs: 2, failures: 1 }]);
        await store.close();

        const reopened = new SqliteStore(join(state, 'caretaker.db'), { driver });
        expect(reopened.database.pragmaValue('integrity_check')).toBe('ok');
        expect((await reopened.listRuns({ limit: 10 })).map((r) => r.status)).toEqual(['failed', 'success']);
        await reopened.close();
      },
    );

    it('on a database capped with max_page_count (a simulated full disk): the same guarantees', async () => {
      const store = new SqliteStore(join(tempDir('ct-full-'), 'caretaker.db'), { driver });
      const pending = await store.insertRun(queued());
      const pages = Number(store.database.pragmaValue('page_count'));
      store.database.pragma(`max_page_count = ${pages}`);
      const err = await caught(
        store.finishRun(pending.id, {
          status: 'success',
          finishedAt: T0 + 5,
          durationMs: 5,
          outputTail: 'x'.repeat(256 * 1024),
        }),
      );
      expect(err).toBeInstanceOf(StoreFullError);
      expect((err as StoreFullError).code).toBe('SQLITE_FULL');
      expect((err as Error).message).toMatch(/disk is full/);
      expect(store.database.inTransaction).toBe(false);
      expect(await store.getRun(pending.id)).toMatchObject({ status: 'queued' });
      expect(await store.dailyStats(0)).toEqual([]);
      store.database.pragma(`max_page_count = ${pages + 1000}`);
      await store.finishRun(pending.id, {
        status: 'success',
        finishedAt: T0 + 5,
        durationMs: 5,
        outputTail: 'x'.repeat(256 * 1024),
      });
      expect(await store.getRun(pending.id)).toMatchObject({ status: 'success' });
      expect(await store.dailyStats(0)).toMatchObject([{ runs: 1 }]);
      await store.close();
    });
  });
});
