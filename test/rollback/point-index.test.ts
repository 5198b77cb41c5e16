/**
 * The point index: a rollback point of an unchanged tree reads no file again, yet every change is
 * caught — a rewrite with the same size and mtime (ctime moves), a change in the same instant as
 * the read (the racy rule re-reads recent files), a blob deleted behind caretaker's back, a
 * damaged index.
 */
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { BlobStore } from '../../src/safety/blob-store.js';
import { PathGuard } from '../../src/safety/path-guard.js';
import { PointIndex, RACY_MS } from '../../src/safety/point-index.js';
import type { FileEntry, PointManifest } from '../../src/safety/rollback-manifest.js';
import { RollbackPoints } from '../../src/safety/rollback-points.js';
import { restorePoint } from '../../src/safety/rollback-restore.js';
import { tempDir } from '../support/tmp.js';

afterEach(() => vi.restoreAllMocks());

/** `later`: file times are compared as if the point read the files a minute after they changed. */
function setup(opts: { later: boolean }) {
  const dir = tempDir();
  const stateDir = join(dir, 'state');
  const data = join(dir, 'data');
  mkdirSync(join(data, 'sub'), { recursive: true });
  for (let i = 0; i < 20; i++)
    writeFileSync(join(data, i % 2 ? 'sub' : '', `f${i}.txt`), `file ${i}\n`.repeat(50));
  const points = new RollbackPoints({
    stateDir,
    host: 'h',
    clock: new ManualClock(Date.UTC(2026, 0, 1)),
    guard: new PathGuard({ stateDir }),
    maxPoints: 50,
    maxBytes: 1024 ** 3,
    fileTimeNow: opts.later ? () => Date.now() + 60_000 : Date.now,
  });
  const take = async () =>
    (await points.take({ paths: ['data'], baseDir: dir, kind: 'task', task: 't', runId: 1, label: '' }))
      .manifest;
  const reads = vi.spyOn(BlobStore.prototype, 'put');
  return { dir, stateDir, data, points, take, reads };
}

const fileEntry = (m: PointManifest, path: string) =>
  m.entries.find((e): e is FileEntry => e.kind === 'file' && e.path === path)!;

describe('rollback points with the point index', () => {
  it('reads no file of an unchanged tree again, and records the same content', async () => {
    const { take, reads } = setup({ later: true });
    const first = await take();
    expect(reads).toHaveBeenCalledTimes(20);
    reads.mockClear();
    const second = await take();
    expect(reads).not.toHaveBeenCalled();
    expect(second.entries).toEqual(first.entries);
  });

  it('catches a file rewritten with the same size and its old mtime (its ctime moved)', async () => {
    const { data, take, reads, points } = setup({ later: true });
    const path = join(data, 'f0.txt');
    const T = 1_700_000_000; // a whole second, exactly representable as a file time
    utimesSync(path, T, T);
    const before = statSync(path);
    const first = await take();
    const original = readFileSync(path);
    const changed = Buffer.from(original.toString().replace('file 0', 'FILE 0'));
    expect(changed.length).toBe(original.length);
    writeFileSync(path, changed);
    utimesSync(path, T, T); // what `touch -r` or a careless tool does
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    reads.mockClear();
    const second = await take();
    expect(reads).toHaveBeenCalledTimes(1);
    expect(fileEntry(second, path).sha256).not.toBe(fileEntry(first, path).sha256);
    // And rolling back to the first point brings the original bytes back.
    await restorePoint(points, first.id, { reason: 'test' });
    expect(readFileSync(path)).toEqual(original);
  });

  it('reads again a file that changed shortly before it was read (racy): its stat fields prove nothing', async () => {
    const { data, take, reads } = setup({ later: false }); // the files were written just now
    await take();
    reads.mockClear();
    await take();
    expect(reads).toHaveBeenCalledTimes(20);
    // The rule itself: recorded only when the change is older than the read by more than RACY_MS.
    const dir = tempDir();
    const index = await PointIndex.load(join(dir, 'point-index.json'), join(dir, 'blobs'));
    const st = statSync(join(data, 'f0.txt'));
    const sha = 'a'.repeat(64);
    index.addBlob(sha, st.size);
    index.remember('/x', st, sha, st.ctimeMs + RACY_MS - 1);
    expect(index.knownSha('/x', st)).toBeUndefined();
    index.remember('/x', st, sha, st.ctimeMs + RACY_MS + 1);
    expect(index.knownSha('/x', st)).toBe(sha);
  });

  it('stores a file again when its blob was deleted behind its back, so the point still restores', async () => {
    const { data, take, reads, points } = setup({ later: true });
    const path = join(data, 'f0.txt');
    const first = await take();
    rmSync(points.blobs.pathOf(fileEntry(first, path).sha256));
    reads.mockClear();
    const second = await take();
    expect(reads).toHaveBeenCalledTimes(1);
    expect(second.addedBytes).toBe(statSync(path).size);
    writeFileSync(path, 'gone\n');
    await restorePoint(points, second.id, { reason: 'test' });
    expect(readFileSync(path, 'utf8')).toBe('file 0\n'.repeat(50));
  });

  it('rebuilds a damaged index: every file is read once more', async () => {
    const { stateDir, take, reads } = setup({ later: true });
    const first = await take();
    writeFileSync(join(stateDir, 'rollback', 'point-index.json'), '{"version":1,"paths":');
    reads.mockClear();
    const second = await take();
    expect(reads).toHaveBeenCalledTimes(20);
    expect(second.entries).toEqual(first.entries);
    reads.mockClear();
    await take();
    expect(reads).not.toHaveBeenCalled();
  });
});
