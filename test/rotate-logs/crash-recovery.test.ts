/**
 * SIGKILL at every step of a rotation: a real child process runs the rotation and kills itself at
 * fault point N (CARETAKER_FAULT=rotate:step:N); the next run finishes what was half-done. After
 * it, every line is in exactly one file, and the files are exactly those of a rotation that was
 * never interrupted.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTree, runRotate } from '../support/rotate.js';
import { tempDir } from '../support/tmp.js';

const CHILD = resolve(import.meta.dirname, '..', 'support', 'rotate-child.mjs');

interface Scenario {
  readonly options: Record<string, unknown>;
  /** Initial files (relative to the dir), plain text; `.gz` names are gzipped. */
  readonly files: Record<string, string>;
}

function lines(prefix: string, n: number): string {
  return Array.from({ length: n }, (_, i) => `${prefix} line ${i + 1}\n`).join('');
}

function seed(dir: string, s: Scenario): void {
  for (const [rel, text] of Object.entries(s.files)) {
    const p = join(dir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, rel.endsWith('.gz') ? gzipSync(text) : text);
  }
}

interface ChildRun {
  readonly killed: boolean;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function child(dir: string, options: unknown, fault: number): Promise<ChildRun> {
  return new Promise((resolveRun) => {
    const c = spawn(process.execPath, [CHILD, dir, JSON.stringify(options), 'manual'], {
      env: { ...process.env, CARETAKER_FAULT: `rotate:step:${fault}` },
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (status, signal) => resolveRun({ killed: signal === 'SIGKILL', status, stdout, stderr }));
  });
}

/** Runs fn over items, at most `limit` at a time (children start up in parallel). */
async function pooled<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

function allLines(tree: Record<string, string>): string[] {
  return Object.values(tree)
    .flatMap((t) => t.split('\n'))
    .filter(Boolean)
    .sort();
}

async function sweep(s: Scenario): Promise<number> {
  const base = tempDir();
  const clean = join(base, 'clean');
  seed(clean, s);
  const full = await child(clean, s.options, 1_000_000);
  expect(full.status, full.stderr).toBe(0);
  const points = Number(full.stdout.trim().split('\n').pop());
  expect(points).toBeGreaterThan(3);
  const expected = readTree(join(clean, 'logs'));
  // Retention legitimately drops the oldest generation; every other line must survive once.
  const kept = allLines(expected);

  const ns = Array.from({ length: points }, (_, i) => i + 1);
  const kills = await pooled(ns, 3, (n) => {
    const dir = join(base, `kill-${n}`);
    seed(dir, s);
    return child(dir, s.options, n);
  });
  for (const n of ns) {
    const dir = join(base, `kill-${n}`);
    const killed = kills[n - 1]!;
    expect(killed.killed, `fault point ${n} of ${points}: ${killed.stderr}`).toBe(true);
    // The next scheduled run (not forced: the daily rotation already happened) cleans up.
    const again = await runRotate(dir, { ...s.options, frequency: 'daily' }, { trigger: 'schedule' });
    expect(again.result.ok, again.result.summary).toBe(true);
    const tree = readTree(join(dir, 'logs'));
    expect(allLines(tree), `lines after a kill at point ${n}`).toEqual(kept);
    expect(tree, `files after a kill at point ${n}`).toEqual(expected);
    expect(existsSync(join(dir, '.caretaker', 'tasks', 'rotate', 'rotation.journal'))).toBe(false);
  }
  return points;
}

describe('rotate-logs killed at every step', () => {
  it('numbered rotation with create, compress and delaycompress', async () => {
    const points = await sweep({
      options: {
        paths: ['logs/*.log'],
        rotate: 3,
        compress: true,
        delaycompress: true,
        create: { mode: '0640' },
      },
      files: {
        'logs/a.log': lines('a live', 50),
        'logs/a.log.1': lines('a gen1', 20),
        'logs/a.log.2.gz': lines('a gen2', 20),
        'logs/a.log.3.gz': lines('a gen3', 20),
      },
    });
    expect(points).toBeGreaterThanOrEqual(8);
  });

  it('copytruncate with compress', async () => {
    await sweep({
      options: { paths: ['logs/app.log'], rotate: 2, compress: true, copytruncate: true },
      files: {
        'logs/app.log': lines('live', 2000),
        'logs/app.log.1.gz': lines('gen1', 10),
        'logs/app.log.2.gz': lines('gen2', 10),
      },
    });
  });

  it('dateext into a dated olddir with compress', async () => {
    await sweep({
      options: { paths: ['logs/app.log'], rotate: 2, compress: true, dateext: true, olddir: 'archive/%Y' },
      files: {
        'logs/app.log': lines('live', 100),
        'logs/archive/2024/app.log-20240101.gz': lines('old1', 5),
        'logs/archive/2024/app.log-20240102.gz': lines('old2', 5),
      },
    });
  });
});
