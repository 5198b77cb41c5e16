import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneFilesAction } from '../../src/actions/prune-files.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';
import { file, NOW } from './tree.js';

const clock = () => new ManualClock(NOW);

function remaining(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

describe('prune-files with older_than', () => {
  it('removes files older than the cut-off and reports files and bytes per root', async () => {
    const dir = tempDir();
    file(dir, 'cache/a/old1.bin', 10, 1000);
    file(dir, 'cache/a/new1.bin', 1, 2000);
    file(dir, 'cache/b/c/old2.bin', 8, 3000);
    file(dir, 'tmp/old3.tmp', 30, 500);
    file(dir, 'tmp/new3.tmp', 6, 700);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['cache', 'tmp'], older_than: '7d' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(remaining(dir)).toEqual(['cache/a/new1.bin', 'tmp/new3.tmp']);
    expect(r.bytesFreed).toBe(4500);
    expect(r.filesModified).toBe(3);
    const roots = r.details!.roots as {
      root: string;
      filesRemoved: number;
      bytesRemoved: number;
      filesKept: number;
    }[];
    expect(roots.map((x) => [x.root, x.filesRemoved, x.bytesRemoved, x.filesKept])).toEqual([
      [join(dir, 'cache'), 2, 4000, 1],
      [join(dir, 'tmp'), 1, 500, 1],
    ]);
    expect(r.summary).toMatch(/^removed 3 of 5 files \(4\.4KB\) in 2 roots/);
  });

  it('in a dry run lists exactly what it would remove, with sizes, and changes nothing', async () => {
    const dir = tempDir();
    const old = file(dir, 'cache/old.bin', 10, 1234);
    file(dir, 'cache/new.bin', 1, 10);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['cache'], older_than: '7d' },
        { baseDir: dir, clock: clock(), dryRun: true },
      )
    ).result;
    expect(r.plan).toEqual([
      `remove ${old} (1.2KB, modified 2026-11-14T12:00:00.000Z, older than the cut-off)`,
    ]);
    expect(r.changed).toBe(false);
    expect(r.bytesFreed).toBe(0);
    expect((r.details!.roots as { bytesRemoved: number }[])[0]!.bytesRemoved).toBe(1234);
    expect(remaining(dir)).toEqual(['cache/new.bin', 'cache/old.bin']);
    expect(r.summary).toMatch(/^would remove 1 of 2 files/);
  });

  it('goes by access time with by: atime', async () => {
    const dir = tempDir();
    file(dir, 'c/used.bin', 30, 10, 1); // written long ago, read yesterday
    file(dir, 'c/unused.bin', 30, 10, 30);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['c'], older_than: '7d', by: 'atime' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(remaining(dir)).toEqual(['c/used.bin']);
  });

  it('selects with globs, include and exclude', async () => {
    const dir = tempDir();
    file(dir, 'builds/1/tmp/a.o', 10);
    file(dir, 'builds/1/keep.o', 10);
    file(dir, 'builds/2/tmp/deep/b.o', 10);
    file(dir, 'builds/2/tmp/b.log', 10);
    file(dir, 'builds/2/tmp/pinned/c.o', 10);
    file(dir, 'exports/x.csv', 10);
    file(dir, 'exports/x.json', 10);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['builds/*/tmp', 'exports/*.csv'], exclude: ['*.log', 'pinned'], older_than: '1d' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(remaining(dir)).toEqual([
      'builds/1/keep.o',
      'builds/2/tmp/b.log',
      'builds/2/tmp/pinned/c.o',
      'exports/x.json',
    ]);
    const r2 = (
      await runAction(
        pruneFilesAction,
        { paths: ['builds'], include: ['**/*.log'], older_than: '1d' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r2.filesModified).toBe(1);
    expect(existsSync(join(dir, 'builds/2/tmp/b.log'))).toBe(false);
  });

  it('removes directories left empty, never the root, and plans it in a dry run', async () => {
    const dir = tempDir();
    file(dir, 'c/a/b/old.bin', 10);
    file(dir, 'c/a/old.bin', 10);
    file(dir, 'c/keep/new.bin', 1);
    mkdirSync(join(dir, 'c/already-empty'));
    const opts = { paths: ['c'], older_than: '7d', remove_empty_dirs: true };
    const dry = (await runAction(pruneFilesAction, opts, { baseDir: dir, clock: clock(), dryRun: true }))
      .result;
    expect(dry.plan!.filter((s) => s.startsWith('remove empty directory')).sort()).toEqual([
      `remove empty directory ${join(dir, 'c/a')}`,
      `remove empty directory ${join(dir, 'c/a/b')}`,
      `remove empty directory ${join(dir, 'c/already-empty')}`,
    ]);
    const r = (await runAction(pruneFilesAction, opts, { baseDir: dir, clock: clock() })).result;
    expect(r.details!.dirsRemoved).toBe(3);
    expect(readdirSync(join(dir, 'c'))).toEqual(['keep']);
    await runAction(pruneFilesAction, { ...opts, older_than: '1h' }, { baseDir: dir, clock: clock() });
    expect(existsSync(join(dir, 'c'))).toBe(true);
    expect(readdirSync(join(dir, 'c'))).toEqual([]);
  });
});

describe('prune-files with keep_newest', () => {
  it('alone, keeps the newest N of each directory and removes the rest', async () => {
    const dir = tempDir();
    for (let i = 1; i <= 6; i++) file(dir, `backups/db/dump-${i}.sql`, 10 - i);
    for (let i = 1; i <= 2; i++) file(dir, `backups/web/site-${i}.tgz`, 10 - i);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['backups'], keep_newest: 3 },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(remaining(dir)).toEqual([
      'backups/db/dump-4.sql',
      'backups/db/dump-5.sql',
      'backups/db/dump-6.sql',
      'backups/web/site-1.tgz',
      'backups/web/site-2.tgz',
    ]);
  });

  it('with older_than, protects the newest N even when they are old', async () => {
    const dir = tempDir();
    // A directory whose writer stopped a month ago: older_than alone would empty it.
    for (let i = 1; i <= 5; i++) file(dir, `reports/r-${i}.pdf`, 40 - i);
    file(dir, 'reports/sub/only.pdf', 90);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['reports'], older_than: '7d', keep_newest: 2 },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(remaining(dir)).toEqual(['reports/r-4.pdf', 'reports/r-5.pdf', 'reports/sub/only.pdf']);
    expect((r.details!.roots as { filesProtected: number }[])[0]!.filesProtected).toBe(3);
  });
});

describe('prune-files with max_total_size', () => {
  it('evicts the oldest files until the selection fits', async () => {
    const dir = tempDir();
    // 10 files of 1000 bytes, ages 1..10 days, spread over two directories.
    for (let i = 1; i <= 10; i++) file(dir, `cache/${i % 2 ? 'odd' : 'even'}/f${i}`, i, 1000);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['cache'], max_total_size: 4500 },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(remaining(dir)).toEqual(['cache/even/f2', 'cache/even/f4', 'cache/odd/f1', 'cache/odd/f3']);
    expect(r.details!.bytesKept).toBe(4000);
    const roots = r.details!.roots as { filesEvicted: number; bytesEvicted: number }[];
    expect(roots[0]!.filesEvicted).toBe(6);
    expect(r.details!.evictionCutoff).toBe(new Date(NOW - 5 * 86_400_000).toISOString());
  });

  it('evicts only as many files of the same age as it needs', async () => {
    const dir = tempDir();
    for (let i = 0; i < 8; i++) file(dir, `c/same-${i}`, 5, 100);
    file(dir, 'c/newer', 1, 100);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['c'], max_total_size: 650 },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.details!.bytesKept).toBe(600);
    expect(remaining(dir)).toHaveLength(6);
    expect(existsSync(join(dir, 'c/newer'))).toBe(true);
  });

  it('combines with older_than and keep_newest, and warns when protected files keep it over budget', async () => {
    const dir = tempDir();
    file(dir, 'c/ancient', 100, 5000);
    for (let i = 1; i <= 4; i++) file(dir, `c/f${i}`, i, 1000);
    const dry = (
      await runAction(
        pruneFilesAction,
        { paths: ['c'], older_than: '30d', max_total_size: 1500, keep_newest: 2 },
        { baseDir: dir, clock: clock(), dryRun: true },
      )
    ).result;
    expect(dry.plan!.map((s) => s.split(' (')[0])).toEqual([
      `remove ${join(dir, 'c/ancient')}`,
      `remove ${join(dir, 'c/f3')}`,
      `remove ${join(dir, 'c/f4')}`,
    ]);
    expect(dry.warnings).toEqual([
      expect.stringMatching(/still 2\.0KB after pruning, over max_total_size 1\.5KB/),
    ]);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['c'], older_than: '30d', max_total_size: 1500, keep_newest: 2 },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(remaining(dir)).toEqual(['c/f1', 'c/f2']);
    expect(r.details!.filesRemoved).toBe(3);
  });

  it('writes the full plan to a file when it is longer than the result can hold', async () => {
    const dir = tempDir();
    for (let i = 0; i < 1200; i++) file(dir, `c/f${i}`, 10, 1);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['c'], older_than: '1d' },
        { baseDir: dir, clock: clock(), dryRun: true, runId: 7 },
      )
    ).result;
    expect(r.plan).toHaveLength(1001);
    const planFile = r.details!.planFile as string;
    expect(planFile).toBe(join(dir, '.caretaker/tasks/test-task/prune-plan-run-7.txt'));
    const lines = readFileSync(planFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1200);
    expect(new Set(lines).size).toBe(1200);
    expect(readdirSync(join(dir, 'c'))).toHaveLength(1200);
  });
});

describe('prune-files options', () => {
  it('rejects a task with no rule, and unknown keys', () => {
    expect(pruneFilesAction.schema.safeParse({ paths: ['c'] }).error?.issues[0]?.message).toMatch(
      /at least one of older_than, max_total_size or keep_newest/,
    );
    expect(pruneFilesAction.schema.safeParse({ paths: ['c'], older_than: '1d', olderthan: 1 }).success).toBe(
      false,
    );
    expect(
      pruneFilesAction.schema.safeParse({ paths: ['c'], older_than: '1x' }).error?.issues[0]?.message,
    ).toMatch(/expected a duration/);
  });
});
