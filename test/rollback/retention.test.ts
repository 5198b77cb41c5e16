import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { PathGuard } from '../../src/safety/path-guard.js';
import { RollbackPoints } from '../../src/safety/rollback-points.js';
import { restorePoint } from '../../src/safety/rollback-restore.js';
import { tempDir } from '../support/tmp.js';

function setup(limits: { maxPoints?: number; maxBytes?: number } = {}) {
  const dir = tempDir();
  const stateDir = join(dir, 'state');
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'same.bin'), Buffer.alloc(1000, 7)); // never changes: stored once
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const points = new RollbackPoints({
    stateDir,
    host: 'h',
    clock,
    guard: new PathGuard({ stateDir }),
    maxPoints: limits.maxPoints ?? 50,
    maxBytes: limits.maxBytes ?? 1024 ** 3,
  });
  const take = async (version: number) => {
    writeFileSync(join(data, 'v.txt'), `${'v'.repeat(599)}${version}`); // 600 bytes, new each time
    clock.advanceTo(clock.now() + 60_000);
    return points.take({ paths: ['data'], baseDir: dir, kind: 'task', task: 't', runId: version, label: '' });
  };
  const blobCount = () =>
    readdirSync(join(stateDir, 'rollback', 'blobs'))
      .filter((d) => /^[0-9a-f]{2}$/.test(d))
      .reduce((n, d) => n + readdirSync(join(stateDir, 'rollback', 'blobs', d)).length, 0);
  return { dir, points, take, blobCount, clock };
}

describe('rollback retention and garbage collection', () => {
  it('stores an unchanged file once across points', async () => {
    const { take, blobCount } = setup();
    const first = await take(1);
    const second = await take(2);
    expect(first.manifest.addedBytes).toBe(1600);
    expect(second.manifest.addedBytes).toBe(600);
    expect(second.manifest.bytes).toBe(1600);
    expect(blobCount()).toBe(3);
  });

  it('keeps max_rollback_points, dropping the oldest, and collects the blobs only they used', async () => {
    const { points, take, blobCount } = setup({ maxPoints: 3 });
    for (let v = 1; v <= 5; v++) await take(v);
    expect((await points.list()).map((p) => p.id)).toEqual(['rb-5', 'rb-4', 'rb-3']);
    expect(blobCount()).toBe(4); // same.bin + the three v.txt versions still referenced
    const last = await take(6);
    expect(last.retention.pointsDeleted).toEqual(['rb-3']);
    expect(last.retention.blobsDeleted).toBe(1);
    expect(last.retention.bytesFreed).toBe(600);
  });

  it('keeps the stored total under max_backup_size by dropping the oldest points', async () => {
    const { points, take } = setup({ maxBytes: 3000 });
    for (let v = 1; v <= 4; v++) await take(v);
    // 1000 + 4 × 600 = 3400 > 3000: the oldest point goes, leaving 2800 bytes.
    expect((await points.list()).map((p) => p.id)).toEqual(['rb-4', 'rb-3', 'rb-2']);
    expect(await points.blobs.totalBytes()).toBe(2800);
  });

  it('refuses a point that alone would exceed max_backup_size', async () => {
    const { take } = setup({ maxBytes: 1200 });
    await expect(take(1)).rejects.toThrow(/would hold 1\.6KB, more than max_backup_size \(1\.2KB\)/);
  });

  it('deletes points older than N days on cleanup and never reuses an id', async () => {
    const { points, take, clock } = setup();
    await take(1);
    await take(2);
    clock.advanceTo(clock.now() + 3 * 86_400_000);
    await take(3);
    const r = await points.cleanup(2 * 86_400_000);
    expect(r.pointsDeleted).toEqual(['rb-1', 'rb-2']);
    expect(r.blobsDeleted).toBe(2);
    expect((await take(4)).manifest.id).toBe('rb-4');
  });

  it('stores and restores a large file (copied, then hashed) even as the first blob', async () => {
    const { points, dir } = setup();
    const big = join(dir, 'big');
    mkdirSync(big);
    const content = Buffer.alloc(3 * 1024 * 1024 + 5, 1);
    content.write('unique', 100);
    writeFileSync(join(big, 'blob.bin'), content);
    const { manifest } = await points.take({
      paths: ['big'],
      baseDir: dir,
      kind: 'task',
      task: 't',
      runId: 1,
      label: '',
    });
    expect(manifest.addedBytes).toBe(content.length);
    writeFileSync(join(big, 'blob.bin'), 'overwritten');
    await restorePoint(points, manifest.id, { reason: 'test' });
    expect(readFileSync(join(big, 'blob.bin')).equals(content)).toBe(true);
  });

  it('serialises two points taken at once in the same process', async () => {
    const { points, dir } = setup();
    const both = await Promise.all(
      [1, 2].map((n) =>
        points.take({ paths: ['data'], baseDir: dir, kind: 'task', task: `t${n}`, runId: n, label: '' }),
      ),
    );
    expect(both.map((b) => b.manifest.id).sort()).toEqual(['rb-1', 'rb-2']);
  });
});
