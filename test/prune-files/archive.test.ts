import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { link } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { pruneFilesAction } from '../../src/actions/prune-files.js';
import { ArchiveMover } from '../../src/actions/prune-files/archive-move.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';
import { DAY, file, NOW } from './tree.js';

const clock = () => new ManualClock(NOW);

describe('prune-files with archive_to', () => {
  it('moves files into a dated archive keeping their paths, and never overwrites an archived file', async () => {
    const dir = tempDir();
    const src = file(dir, 'exports/2026/oct/report.csv', 20, 321);
    file(dir, 'exports/new.csv', 1);
    const opts = { paths: ['exports'], older_than: '7d', archive_to: 'archive' };
    const r = (await runAction(pruneFilesAction, opts, { baseDir: dir, clock: clock() })).result;
    expect(r.ok).toBe(true);
    const dest = join(dir, 'archive/2026-11-24/exports/2026/oct/report.csv');
    expect(existsSync(src)).toBe(false);
    expect(readFileSync(dest, 'utf8')).toBe('a'.repeat(321));
    expect(statSync(dest).mtimeMs).toBe(NOW - 20 * DAY);
    expect(r.summary).toMatch(/^archived 1 of 2 files .* archive: .*archive\/2026-11-24$/);
    expect(r.bytesFreed).toBe(0);
    expect((r.details!.roots as { bytesRemoved: number }[])[0]!.bytesRemoved).toBe(321);

    // The same name again on the same day: kept beside the first, not over it.
    file(dir, 'exports/2026/oct/report.csv', 20, 5);
    await runAction(pruneFilesAction, opts, { baseDir: dir, clock: clock() });
    expect(readFileSync(dest, 'utf8')).toBe('a'.repeat(321));
    expect(readFileSync(`${dest}.1`, 'utf8')).toBe('aaaaa');
  });

  it('never walks into its own archive when it lies inside a root', async () => {
    const dir = tempDir();
    file(dir, 'cache/old.bin', 20);
    const opts = { paths: ['cache'], older_than: '7d', archive_to: 'cache/.archive' };
    await runAction(pruneFilesAction, opts, { baseDir: dir, clock: clock() });
    const archived = join(dir, 'cache/.archive/2026-11-24/cache/old.bin');
    expect(existsSync(archived)).toBe(true);
    const again = (
      await runAction(pruneFilesAction, opts, {
        baseDir: dir,
        clock: new ManualClock(NOW + 30 * DAY),
      })
    ).result;
    expect(again.details!.filesRemoved).toBe(0);
    expect(existsSync(archived)).toBe(true);
  });

  it('in a dry run plans each move with its destination and creates nothing', async () => {
    const dir = tempDir();
    const src = file(dir, 'c/x.bin', 20, 2048);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['c'], older_than: '7d', archive_to: 'arch' },
        { baseDir: dir, clock: clock(), dryRun: true },
      )
    ).result;
    expect(r.plan).toEqual([
      `archive ${src} -> ${join(dir, 'arch/2026-11-24/c/x.bin')} (2.0KB, modified 2026-11-04T12:00:00.000Z, older than the cut-off)`,
    ]);
    expect(existsSync(join(dir, 'arch'))).toBe(false);
    expect(existsSync(src)).toBe(true);
  });

  it('finishes a move a killed run left half done (linked in the archive, still in place)', async () => {
    const dir = tempDir();
    const src = file(dir, 'c/x.bin', 20, 10);
    const destDir = join(dir, 'arch/2026-11-24/c');
    await runAction(
      pruneFilesAction,
      { paths: ['c'], older_than: '7d', archive_to: 'arch' },
      { baseDir: dir, clock: clock(), dryRun: true },
    );
    // What a SIGKILL between link() and unlink() leaves behind:
    mkdirSync(destDir, { recursive: true });
    await link(src, join(destDir, 'x.bin'));
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['c'], older_than: '7d', archive_to: 'arch' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.details!.filesRemoved).toBe(1);
    expect(existsSync(src)).toBe(false);
    expect(existsSync(join(destDir, 'x.bin'))).toBe(true);
    expect(existsSync(join(destDir, 'x.bin.1'))).toBe(false);
  });
});

describe('archive moves across filesystems', () => {
  it('copies, fsyncs and verifies before unlinking the source (EXDEV)', async () => {
    const dir = tempDir();
    // /dev/shm is a tmpfs here, another filesystem than the temp dir: a real EXDEV.
    let other: string | undefined;
    if (existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(dir).dev) {
      other = mkdtempSync('/dev/shm/ct-archive-');
      onTestFinished(() => rmSync(other!, { recursive: true, force: true }));
    } else {
      console.warn(
        'no second filesystem here: the cross-filesystem path is forced with an EXDEV from link()',
      );
    }
    const src = file(dir, 'c/big.bin', 20, 200_000);
    const mover = other
      ? new ArchiveMover()
      : new ArchiveMover({
          link: () => Promise.reject(Object.assign(new Error('EXDEV'), { code: 'EXDEV' })),
        });
    const destDir = join(other ?? join(dir, 'arch'), 'c');
    const entry = { name: 'big.bin', size: 200_000, mtimeMs: NOW - 20 * DAY, atimeMs: NOW - 20 * DAY };
    const out = await mover.moveBatch(join(dir, 'c'), destDir, [entry]);
    expect(out.failed).toEqual([]);
    expect(out.moved.map((m) => m.dest)).toEqual([join(destDir, 'big.bin')]);
    expect(existsSync(src)).toBe(false);
    expect(statSync(join(destDir, 'big.bin')).size).toBe(200_000);
    expect(statSync(join(destDir, 'big.bin')).mtimeMs).toBe(NOW - 20 * DAY);

    // A source that changed since it was listed is left in place, and no temp file remains.
    const src2 = file(dir, 'c/live.log', 20, 100);
    writeFileSync(src2, 'appended since the listing');
    const out2 = await mover.moveBatch(join(dir, 'c'), destDir, [{ ...entry, name: 'live.log', size: 100 }]);
    expect(out2.moved).toEqual([]);
    expect(out2.failed[0]!.reason).toMatch(/changed while being copied/);
    expect(existsSync(src2)).toBe(true);
    expect(existsSync(join(destDir, 'live.log'))).toBe(false);
    expect(readdirSync(destDir)).toEqual(['big.bin']);
  });
});
