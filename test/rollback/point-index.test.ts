/**
 * The point index: a rollback point of an unchanged tree reads no file again, yet every change is
 * caught — a rewrite with the same size and mtime (ctime moves), a change in the same instant as
 * the read (the racy rule re-reads recent files), a blob deleted behind caretaker's back, a
 * damaged index.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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

  it('catches a same-size rewrite with the same mtime within the same second (racy), on the index kept in memory', async () => {
    const { data, take, reads, points } = setup({ later: false }); // real time: the point reads right after the writes
    const path = join(data, 'f0.txt');
    const T = Math.floor(Date.now() / 1000); // this very second, exactly representable
    utimesSync(path, T, T);
    const first = await take();
    const before = statSync(path);
    const original = readFileSync(path);
    const changed = Buffer.from(original.toString().replace('file 0', 'FILE 0'));
    writeFileSync(path, changed);
    utimesSync(path, T, T);
    expect(statSync(path).size).toBe(before.size);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    const load = vi.spyOn(PointIndex, 'load');
    reads.mockClear();
    const second = await take();
    expect(load).not.toHaveBeenCalled(); // the same instance: its index stayed in memory
    expect(reads.mock.calls.map((c) => c[0])).toContain(path);
    expect(fileEntry(second, path).sha256).not.toBe(fileEntry(first, path).sha256);
    writeFileSync(path, 'other\n');
    await restorePoint(points, second.id, { reason: 'test' });
    expect(readFileSync(path)).toEqual(changed);
  });

  it('keeps the index in memory between points, but not past another instance taking or deleting a point', async () => {
    const { dir, data, points, take, reads } = setup({ later: true });
    const load = vi.spyOn(PointIndex, 'load');
    const first = await take();
    expect(load).toHaveBeenCalledTimes(1);
    reads.mockClear();
    await take();
    expect(load).toHaveBeenCalledTimes(1); // the second point used the index in memory
    expect(reads).not.toHaveBeenCalled();

    // Another instance (another process, as far as the store can tell) changes the store: it
    // takes a point, then deletes every point, which collects every blob the first one knows.
    const other = new RollbackPoints({ ...points.opts });
    // Even a hold that changes nothing the first instance could see (its token tells).
    await other.retain();
    load.mockClear();
    await take();
    expect(load).toHaveBeenCalledTimes(1);
    await other.take({ paths: ['data'], baseDir: dir, kind: 'task', task: 't', runId: 2, label: '' });
    for (const p of await other.list()) await other.delete(p.id);
    expect(existsSync(points.blobs.pathOf(fileEntry(first, join(data, 'f0.txt')).sha256))).toBe(false);

    load.mockClear();
    reads.mockClear();
    const next = await take();
    expect(load).toHaveBeenCalledTimes(1); // read afresh: the one in memory was stale
    expect(reads).toHaveBeenCalledTimes(20); // every file stored again, none taken on trust
    for (const e of next.entries)
      if (e.kind === 'file') expect(existsSync(points.blobs.pathOf(e.sha256))).toBe(true);
    writeFileSync(join(data, 'f0.txt'), 'gone\n');
    await restorePoint(points, next.id, { reason: 'test' });
    expect(readFileSync(join(data, 'f0.txt'), 'utf8')).toBe('file 0\n'.repeat(50));
  });
});
