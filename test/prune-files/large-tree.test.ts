import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { pruneFilesAction } from '../../src/actions/prune-files.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';
import { DAY, NOW } from './tree.js';

const FILES = 100_000;
/** File i is (i % 20) days and i milliseconds old (no two files of the same age), 1-16 bytes. */
const ageOf = (i: number) => (i % 20) * DAY + i;
const sizeOf = (i: number) => 1 + (i % 16);

/** 100,000 files in 1,000 directories (d*\/s*\/f<i>), made by a plain Node child process. */
function buildTree(root: string): void {
  execFileSync(process.execPath, [
    join(import.meta.dirname, 'build-tree.mjs'),
    root,
    String(FILES),
    String(NOW),
  ]);
}

/** Numbers of the files left, by listing only (no lstat): cheap enough to check every one. */
function remaining(root: string): Set<number> {
  const out = new Set<number>();
  for (const a of readdirSync(root))
    for (const b of readdirSync(join(root, a)))
      for (const f of readdirSync(join(root, a, b))) out.add(Number(f.slice(1)));
  return out;
}

/**
 * The tree lives on tmpfs (/dev/shm) when there is one: building and deleting 100,000 files on a
 * disk shared with other test runs can take minutes, which says nothing about prune-files. The
 * benchmark (bench/prune) measures on the disk.
 */
function ramDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
  } catch {
    return tempDir();
  }
  const dir = mkdtempSync('/dev/shm/ct-prune-');
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('prune-files on a 100,000-file tree', () => {
  it(
    'removes the half older than the cut-off, then evicts down to a size budget',
    { timeout: 120_000 },
    async () => {
      const dir = ramDir();
      const root = join(dir, 'cache');
      buildTree(root);
      const clock = new ManualClock(NOW);

      const t0 = performance.now();
      const r = (
        await runAction(pruneFilesAction, { paths: ['cache'], older_than: '10d' }, { baseDir: dir, clock })
      ).result;
      const ms = performance.now() - t0;
      expect(r.ok).toBe(true);
      expect(r.details!.filesRemoved).toBe(FILES / 2);
      expect((r.details!.walked as { files: number }).files).toBe(FILES);
      // Exactly the files younger than 10 days are left.
      const young = [...Array(FILES).keys()].filter((i) => ageOf(i) <= 10 * DAY);
      const left = remaining(root);
      expect(left.size).toBe(FILES / 2);
      expect(young.every((i) => left.has(i))).toBe(true);
      console.log(`pruned ${FILES / 2} of ${FILES} files in ${ms.toFixed(0)} ms`);

      // Eviction: keep half of the remaining bytes; the oldest go first, and no more than needed.
      const total = young.reduce((sum, i) => sum + sizeOf(i), 0);
      const budget = Math.floor(total / 2);
      const e = (
        await runAction(
          pruneFilesAction,
          { paths: ['cache'], max_total_size: budget },
          { baseDir: dir, clock },
        )
      ).result;
      const expected = new Set(young);
      let bytes = total;
      for (const i of [...young].sort((a, b) => ageOf(b) - ageOf(a))) {
        if (bytes <= budget) break;
        expected.delete(i);
        bytes -= sizeOf(i);
      }
      const kept = remaining(root);
      expect(kept.size).toBe(expected.size);
      expect([...expected].every((i) => kept.has(i))).toBe(true);
      expect(e.details!.bytesKept).toBe(bytes);
    },
  );
});
