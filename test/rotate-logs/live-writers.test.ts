/**
 * Real writer processes keep logging while the rotations happen: every line they wrote must be
 * found, exactly once, across all generations (decompressed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTree, runRotate } from '../support/rotate.js';
import { tempDir, waitUntil } from '../support/tmp.js';

const WRITER = resolve(import.meta.dirname, '..', 'support', 'log-writer.mjs');

interface Writer {
  readonly child: ChildProcess;
  readonly pid: number;
  out: string;
  /** Resolves with the number of lines written (self-paced writers). */
  readonly finished: Promise<number>;
}

async function startWriter(
  log: string,
  pidfile: string,
  mode: string,
  lines?: number,
  burst = 1,
): Promise<Writer> {
  const args = [WRITER, log, pidfile, mode, ...(lines === undefined ? [] : [String(lines), String(burst)])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const w: Writer = {
    child,
    pid: child.pid!,
    out: '',
    finished: new Promise((res) => child.on('exit', () => res(Number(w.out.trim().split('\n').pop())))),
  };
  child.stdout!.on('data', (d: Buffer) => (w.out += d.toString()));
  await waitUntil(() => w.out.includes('started'), 'the writer to start');
  return w;
}

/** Asks a stdin-driven writer to write n lines and waits for it. */
async function writeLines(w: Writer, n: number): Promise<void> {
  const before = (w.out.match(/ok /g) ?? []).length;
  w.child.stdin!.write(`${n}\n`);
  await waitUntil(() => (w.out.match(/ok /g) ?? []).length > before, 'the writer to write');
}

function writerLines(dir: string, pid: number): number[] {
  const tree = readTree(dir);
  const re = new RegExp(`^writer ${pid} line (\\d+)$`);
  return Object.values(tree)
    .flatMap((t) => t.split('\n'))
    .map((l) => re.exec(l.replace(/^\0+/, ''))?.[1]) // a line after a NUL hole is still a line
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('rotate-logs with writers logging during the rotation', () => {
  it('create + signal: the writer reopens on HUP, compression waits for it, no line lost', async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs');
    const log = join(logs, 'app.log');
    mkdirSync(logs);
    const w = await startWriter(log, join(dir, 'app.pid'), 'reopen', 3000, 3);
    const options = {
      paths: ['logs/app.log'],
      rotate: 50,
      compress: true,
      create: true,
      signal: { pidfile: 'app.pid' },
    };
    for (let i = 0; i < 3; i++) {
      await waitUntil(() => existsSync(log) && readFileSync(log).length > 2000, 'the log to fill');
      const r = await runRotate(dir, options);
      expect(r.result.ok, r.result.summary).toBe(true);
      expect(r.result.details?.deferred, 'compression should not have had to wait for the next run').toEqual(
        [],
      );
    }
    const written = await w.finished;
    expect(written).toBe(3000);
    expect(writerLines(logs, w.pid)).toEqual(oneToN(written));
    expect(Object.keys(readTree(logs)).filter((f) => f.endsWith('.gz'))).toHaveLength(3);
  });

  it('copytruncate + pause_writer: a writer that never reopens loses nothing', async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs');
    const log = join(logs, 'app.log');
    mkdirSync(logs);
    const w = await startWriter(log, join(dir, 'app.pid'), 'hold', 3000, 3);
    const options = {
      paths: ['logs/app.log'],
      rotate: 50,
      compress: true,
      copytruncate: true,
      pause_writer: 'app.pid',
    };
    for (let i = 0; i < 3; i++) {
      await waitUntil(() => readFileSync(log).length > 2000, 'the log to fill');
      const r = await runRotate(dir, options);
      expect(r.result.ok, r.result.summary).toBe(true);
      const ct = r.result.details?.copytruncate as { writerPaused: boolean }[];
      expect(ct[0]?.writerPaused).toBe(true);
    }
    const written = await w.finished;
    expect(writerLines(logs, w.pid)).toEqual(oneToN(written));
  });

  it('copytruncate catches up with a fast writer during a long copy (logrotate loses those lines)', async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs');
    const log = join(logs, 'app.log');
    mkdirSync(logs);
    // 40 MB of old lines make the copy long enough for the writer to append during it.
    const filler = 'x'.repeat(199) + '\n';
    writeFileSync(log, filler.repeat(200_000));
    const w = await startWriter(log, join(dir, 'app.pid'), 'hold', 4000, 4);
    await waitUntil(() => readFileSync(log).length > 40_000_000 + 10_000, 'the writer to start writing');
    const r = await runRotate(dir, { paths: ['logs/app.log'], rotate: 5, copytruncate: true });
    expect(r.result.ok, r.result.summary).toBe(true);
    const ct = (
      r.result.details?.copytruncate as { passes: number; bytes: number; windowMicros: number }[]
    )[0]!;
    // Lines appended while the 40 MB were copied are in the rotated copy: the final pass caught up.
    const rotated = readFileSync(join(logs, 'app.log.1'));
    expect(ct.bytes).toBe(rotated.length);
    expect(ct.bytes).toBeGreaterThan(40_000_000 + 10_000);
    const caughtUp = rotated
      .toString('latin1')
      .split('\n')
      .filter((l) => l.startsWith(`writer ${w.pid} `));
    expect(caughtUp.length).toBeGreaterThan(0);
    // At least one copy pass plus the final synchronous one, and never past the cap of 20 + 1.
    expect(ct.passes).toBeGreaterThanOrEqual(2);
    expect(ct.passes).toBeLessThanOrEqual(21);
    const written = await w.finished;
    const found = writerLines(logs, w.pid);
    // The only loss possible is a line landing inside the measured window between the last
    // read and the truncate (tens of microseconds); a plain copy-then-truncate would have lost
    // every line written during the 40 MB copy.
    expect(written - found.length).toBeLessThanOrEqual(1);
    expect(new Set(found).size).toBe(found.length);
    expect(ct.windowMicros).toBeLessThan(50_000);
  });

  it('a writer that holds the moved file keeps it uncompressed until it lets go', async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs');
    const log = join(logs, 'app.log');
    mkdirSync(logs);
    const w = await startWriter(log, join(dir, 'app.pid'), 'hold');
    await writeLines(w, 100);
    const options = { paths: ['logs/app.log'], rotate: 5, compress: true, create: true };
    const first = await runRotate(dir, options);
    expect(first.result.warnings?.join('\n')).toMatch(/still open for writing by pid \d+/);
    await writeLines(w, 50); // still into app.log.1: it was never told to reopen
    w.child.stdin!.end();
    await w.finished;
    appendFileSync(log, 'a new line in the new log\n');
    const second = await runRotate(dir, options);
    expect(second.result.ok).toBe(true);
    expect(Object.keys(readTree(logs)).sort()).toEqual(['app.log', 'app.log.1.gz', 'app.log.2.gz']);
    expect(writerLines(logs, w.pid)).toEqual(oneToN(150));
  });

  it('reports the NUL hole a writer without O_APPEND leaves after copytruncate', async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs');
    const log = join(logs, 'app.log');
    mkdirSync(logs);
    const w = await startWriter(log, join(dir, 'app.pid'), 'offset');
    await writeLines(w, 100);
    const options = { paths: ['logs/app.log'], rotate: 5, copytruncate: true };
    const first = await runRotate(dir, options);
    expect(first.result.warnings).toBeUndefined();
    await writeLines(w, 10); // written at its old offset: the file now starts with a hole
    const second = await runRotate(dir, options);
    const holes = second.result.details?.nulHoles as { firstOffset: number; firstRun: number }[];
    expect(holes[0]?.firstOffset).toBe(0);
    expect(holes[0]?.firstRun).toBeGreaterThan(1000);
    expect(second.result.warnings?.join('\n')).toMatch(/NUL bytes.*O_APPEND/);
    w.child.stdin!.end();
    await w.finished;
    expect(writerLines(logs, w.pid)).toEqual(oneToN(110));
  });
});
