import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planPattern } from '../../src/actions/scan-logs/line-regex.js';
import { LineScanner } from '../../src/actions/scan-logs/line-scanner.js';
import { scanFileRange } from '../../src/actions/scan-logs/parallel-scan.js';
import { scanRange } from '../../src/actions/scan-logs/range-scan.js';
import { tempDir } from '../support/tmp.js';
import { logText } from './log-lines.js';

/** Patterns with the same meaning as a JavaScript regex and as a POSIX ERE in the C locale. */
const PATTERNS: [string, boolean][] = [
  ['ERROR|CRITICAL|FATAL', false],
  ['WARN(ING)?', false],
  ['Connection.*(refused|failed)', false],
  ['API.*key.*invalid', false],
  ['(Memory|OOM).*error', false],
  ['Disk.*full', false],
  ['Configuration.*missing', false],
  ['[0-9]{4}ms', false], // no usable literal
  ['^[0-9]{4}-', false], // anchored
  ['ms$', false], // lines ending in \r do not end in "ms"
  [' $', false],
  ['^$', false], // empty lines
  ['x*', false], // matches the empty string: every line
  ['café|crème', false], // UTF-8 bytes
  ['\\btab\\b', false],
  ['here\\s[0-9]+\\s', false], // \s: ASCII whitespace, tab included
  ['error', true], // case-insensitive: ERROR, error, ERRORS, Error…
  ['warn(ing)?', true],
  ['connection.*(REFUSED|failed)', true],
  ['E.R', false],
  ['ERROR tail$', false], // at the end of the long lines
  ['[^ -~]', false], // any byte outside printable ASCII (tabs, UTF-8, \r)
];

function grepCount(pattern: string, ignoreCase: boolean, file: string): number {
  try {
    const out = execFileSync('grep', ['-c', ignoreCase ? '-iE' : '-E', '--', pattern, file], {
      env: { ...process.env, LC_ALL: 'C' },
      encoding: 'utf8',
    });
    return Number(out.trim());
  } catch (err) {
    const e = err as { status?: number; stdout?: string };
    if (e.status === 1) return Number(e.stdout?.trim() ?? '0'); // grep exits 1 when nothing matched
    throw err;
  }
}

function grepLastLines(pattern: string, file: string, n: number): number[] {
  const out = execFileSync('grep', ['-nE', '--', pattern, file], {
    env: { ...process.env, LC_ALL: 'C' },
    encoding: 'latin1',
  });
  return out
    .trim()
    .split('\n')
    .slice(-n)
    .map((l) => Number(l.split(':')[0]));
}

async function countWith(file: string, chunkBytes: number, sampleLines: number) {
  const plans = PATTERNS.map(([p, i], k) => planPattern(`p${k}`, p, i));
  const scanner = new LineScanner(plans, { sampleLines });
  const fd = openSync(file, 'r');
  try {
    const end = await scanRange(
      (b, o, l, p) => readSync(fd, b, o, l, p),
      0,
      statSync(file).size,
      false,
      scanner,
      chunkBytes,
    );
    return { tally: scanner.tally(), end };
  } finally {
    closeSync(fd);
  }
}

describe('scan-logs counts what grep -c counts', () => {
  it('for every pattern kind, whatever the chunk size (lines across chunk boundaries)', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, logText(7, 20_000));
    const expected = PATTERNS.map(([p, i]) => grepCount(p, i, file));
    // Every pattern must match something, or the comparison proves little.
    expect(expected.every((n) => n > 0)).toBe(true);
    for (const chunk of [1 << 20, 4096, 333]) {
      const { tally, end } = await countWith(file, chunk, 0);
      expect(end).toBe(statSync(file).size);
      expect(
        Object.fromEntries(PATTERNS.map(([p, i], k) => [`${p}${i ? ' (i)' : ''}`, tally.counts[k]])),
      ).toEqual(Object.fromEntries(PATTERNS.map(([p, i], k) => [`${p}${i ? ' (i)' : ''}`, expected[k]])));
    }
  });

  it('gives samples the line numbers grep -n gives', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, logText(11, 8000));
    const { tally } = await countWith(file, 5000, 3);
    for (const k of [0, 2, 7, 11, 19]) {
      expect(
        tally.samples[k]!.map((s) => s.line),
        PATTERNS[k]![0],
      ).toEqual(grepLastLines(PATTERNS[k]![0], file, 3));
    }
    const errors = tally.samples[0]!.at(-1)!;
    expect(errors.text).toMatch(/ERROR|CRITICAL|FATAL/);
    expect(errors.text).not.toMatch(/[\r\n]/);
  });

  it('gives the same counts and line numbers when split across worker threads', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, logText(3, 30_000));
    const plans = PATTERNS.map(([p, i], k) => planPattern(`p${k}`, p, i));
    const size = statSync(file).size;
    const r = await scanFileRange(
      file,
      0,
      size,
      false,
      plans,
      { sampleLines: 2 },
      new AbortController().signal,
      {
        threads: 3,
        minParallelBytes: 64 << 10,
      },
    );
    expect(r.workers).toBe(3);
    expect(r.endOffset).toBe(size);
    expect(r.tally.counts).toEqual(PATTERNS.map(([p, i]) => grepCount(p, i, file)));
    expect(r.tally.samples[2]!.map((s) => s.line)).toEqual(grepLastLines(PATTERNS[2]![0], file, 2));
    expect(r.tally.lines).toBe(30_000);
  });

  it('leaves a last line without its newline for the next run', async () => {
    const dir = tempDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, 'ERROR one\nERROR two\nERROR thr');
    const { tally, end } = await countWith(file, 4096, 0);
    expect(tally.counts[0]).toBe(2);
    expect(end).toBe('ERROR one\nERROR two\n'.length);
  });
});

describe('pattern plans', () => {
  it('search for a literal every match contains, and skip the regex when the literal decides', () => {
    const plan = (p: string, i = false) => {
      const x = planPattern('x', p, i);
      return [x.literal, x.literalIsMatch];
    };
    expect(plan('WARN(ING)?')).toEqual(['WARN', true]);
    expect(plan('Connection.*(refused|failed)')).toEqual(['Connection', false]);
    expect(plan('\\bfail(ed|ure)\\b')).toEqual(['fail', false]);
    expect(plan('x{2}yz')).toEqual(['xxyz', true]);
    // An alternation has no single literal: the regex (whose engine prefilters the alternatives) runs.
    expect(plan('ERROR|CRITICAL|FATAL')).toEqual([undefined, false]);
    expect(plan('error', true)).toEqual([undefined, false]);
    expect(plan('[0-9]{4}ms')).toEqual([undefined, false]);
  });

  it('reject what cannot be honoured, saying why', () => {
    expect(() => planPattern('x', 'a(b', false)).toThrow(/not a valid regular expression/);
    expect(() => planPattern('x', '[é]', false)).toThrow(/outside ASCII inside \[\.\.\.\]/);
    expect(() => planPattern('x', '(a)\\1', true)).toThrow(
      /backreferences cannot be combined with ignore_case/,
    );
  });
});
