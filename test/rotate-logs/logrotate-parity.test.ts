/**
 * The same files, the same directives, a forced rotation by us and by the real logrotate on a
 * twin directory: the resulting file names and (decompressed) contents must be identical, round
 * after round.
 */
import { appendFileSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { logrotateMissing, readTree, runLogrotate, runRotate } from '../support/rotate.js';
import { tempDir } from '../support/tmp.js';

const missing = logrotateMissing();
const DAY = 86_400_000;

interface Scenario {
  /** Our `with:` options (paths relative to the twin's directory). */
  readonly ours: Record<string, unknown>;
  /** logrotate directives for the same logs (one per line). */
  readonly theirs: string;
  /** Files present before the first round, relative to the twin, with optional age in days. */
  readonly before?: Record<string, { text: string; ageDays?: number }>;
  readonly rounds: number;
  /** Log files written to at each round (default logs/app.log). */
  readonly logs?: readonly string[];
  /** Extra logrotate stanza paths (default: the logs). */
  readonly create?: boolean;
}

function prepare(twin: string, s: Scenario): void {
  mkdirSync(join(twin, 'logs'), { recursive: true });
  const now = Date.now();
  for (const [rel, f] of Object.entries(s.before ?? {})) {
    const p = join(twin, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, rel.endsWith('.gz') ? gzipSync(f.text) : f.text);
    if (f.ageDays !== undefined) {
      const t = new Date(now - f.ageDays * DAY);
      utimesSync(p, t, t);
    }
  }
}

async function compare(s: Scenario): Promise<Record<string, string>> {
  const dir = tempDir();
  const ours = join(dir, 'ours');
  const theirs = join(dir, 'theirs');
  const work = join(dir, 'lr');
  mkdirSync(work);
  prepare(ours, s);
  prepare(theirs, s);
  const logs = s.logs ?? ['logs/app.log'];
  const conf = `${logs.map((l) => join(theirs, l)).join(' ')} {\n${s.theirs}\n}\n`;
  let last: Record<string, string> = {};
  for (let round = 1; round <= s.rounds; round++) {
    for (const twin of [ours, theirs])
      for (const l of logs) appendFileSync(join(twin, l), `round ${round} of ${l}\nsecond line ${round}\n`);
    const r = await runRotate(ours, { paths: logs, ...s.ours });
    expect(r.result.ok, r.result.summary).toBe(true);
    runLogrotate(work, conf);
    const a = readTree(join(ours, 'logs'));
    const b = readTree(join(theirs, 'logs'));
    expect(a, `after round ${round}`).toEqual(b);
    last = a;
  }
  return last;
}

describe.skipIf(missing)('rotate-logs gives the same files as logrotate -f', () => {
  it('numbered rotation without compression keeps rotate generations', async () => {
    const tree = await compare({ ours: { rotate: 3 }, theirs: 'rotate 3', rounds: 5 });
    expect(Object.keys(tree)).toEqual(['app.log.1', 'app.log.2', 'app.log.3']);
  });

  it('numbered rotation with compress', async () => {
    const tree = await compare({
      ours: { rotate: 3, compress: true },
      theirs: 'rotate 3\ncompress',
      rounds: 5,
    });
    expect(Object.keys(tree)).toEqual(['app.log.1.gz', 'app.log.2.gz', 'app.log.3.gz']);
  });

  it('numbered rotation with compress and delaycompress keeps the newest uncompressed', async () => {
    const tree = await compare({
      ours: { rotate: 4, compress: true, delaycompress: true },
      theirs: 'rotate 4\ncompress\ndelaycompress',
      rounds: 6,
    });
    expect(Object.keys(tree)).toEqual(['app.log.1', 'app.log.2.gz', 'app.log.3.gz', 'app.log.4.gz']);
  });

  it('drops generations past the rotate limit, including ones left by a larger limit', async () => {
    const before: Scenario['before'] = {};
    for (let i = 1; i <= 7; i++) before[`logs/app.log.${i}.gz`] = { text: '' };
    for (let i = 1; i <= 7; i++) before[`logs/app.log.${i}.gz`] = { text: `old generation ${i}\n` };
    const tree = await compare({
      ours: { rotate: 2, compress: true },
      theirs: 'rotate 2\ncompress',
      before,
      rounds: 3,
    });
    expect(Object.keys(tree)).toEqual([
      'app.log.1.gz',
      'app.log.2.gz',
      'app.log.4.gz',
      'app.log.5.gz',
      'app.log.6.gz',
      'app.log.7.gz',
    ]);
  });

  it('rotate 0 keeps nothing', async () => {
    const tree = await compare({ ours: { rotate: 0 }, theirs: 'rotate 0', rounds: 2 });
    expect(tree).toEqual({});
  });

  it('dateext names by date and expires past the rotate limit', async () => {
    const before: Scenario['before'] = {};
    for (const d of ['20240101', '20240102', '20240103', '20240104'])
      before[`logs/app.log-${d}.gz`] = { text: `day ${d}\n` };
    before['logs/app.log-20240105'] = { text: 'uncompressed, ignored by the .gz glob\n' };
    const tree = await compare({
      ours: { rotate: 3, compress: true, dateext: true },
      theirs: 'rotate 3\ncompress\ndateext',
      before,
      rounds: 1,
    });
    expect(Object.keys(tree)).toHaveLength(3 + 1);
  });

  it('dateext with delaycompress and a custom dateformat', async () => {
    await compare({
      ours: { rotate: 3, compress: true, delaycompress: true, dateext: true, dateformat: '.%Y-%m-%d' },
      theirs: 'rotate 3\ncompress\ndelaycompress\ndateext\ndateformat .%Y-%m-%d',
      before: {
        'logs/app.log.2024-01-01.gz': { text: 'a\n' },
        'logs/app.log.2024-01-02.gz': { text: 'b\n' },
        'logs/app.log.2024-01-03': { text: 'c (delayed)\n' },
      },
      rounds: 1,
    });
  });

  it('olddir moves generations into another directory', async () => {
    const tree = await compare({
      ours: { rotate: 2, compress: true, olddir: 'old' },
      theirs: 'rotate 2\ncompress\nolddir old',
      before: { 'logs/old/app.log.1.gz': { text: 'already there\n' } },
      rounds: 3,
    });
    expect(Object.keys(tree)).toEqual(['old/app.log.1.gz', 'old/app.log.2.gz']);
  });

  it('olddir with dateext', async () => {
    await compare({
      ours: { rotate: 2, dateext: true, olddir: 'archive' },
      theirs: 'rotate 2\ndateext\nolddir archive',
      before: {
        'logs/archive/app.log-20240101': { text: 'x\n' },
        'logs/archive/app.log-20240102': { text: 'y\n' },
      },
      rounds: 1,
    });
  });

  it('maxage removes numbered generations older than N days', async () => {
    const before: Scenario['before'] = {};
    for (let i = 1; i <= 5; i++)
      before[`logs/app.log.${i}.gz`] = { text: `gen ${i}\n`, ageDays: i * 3 + 0.5 };
    const tree = await compare({
      ours: { rotate: 6, compress: true, maxage: 7 },
      theirs: 'rotate 6\ncompress\nmaxage 7',
      before,
      rounds: 1,
    });
    expect(Object.keys(tree)).toEqual(['app.log.1.gz', 'app.log.2.gz', 'app.log.3.gz']);
  });

  it('maxage with dateext', async () => {
    await compare({
      ours: { rotate: 10, dateext: true, maxage: '3d' },
      theirs: 'rotate 10\ndateext\nmaxage 3',
      before: {
        'logs/app.log-20240101': { text: 'old\n', ageDays: 10 },
        'logs/app.log-20240102': { text: 'recent\n', ageDays: 1 },
      },
      rounds: 1,
    });
  });

  it('create makes a new empty log with the given mode', async () => {
    const tree = await compare({
      ours: { rotate: 2, create: { mode: '0640' } },
      theirs: 'rotate 2\ncreate 0640',
      rounds: 2,
    });
    expect(tree['app.log']).toBe('');
  });

  it('copytruncate keeps the log in place and empties it', async () => {
    await compare({
      ours: { rotate: 2, copytruncate: true, compress: true },
      theirs: 'rotate 2\ncopytruncate\ncompress',
      rounds: 3,
    });
  });

  it('extension keeps .log at the end of rotated names', async () => {
    const tree = await compare({
      ours: { rotate: 2, extension: '.log' },
      theirs: 'rotate 2\nextension .log',
      rounds: 3,
    });
    expect(Object.keys(tree)).toEqual(['app.1.log', 'app.2.log']);
  });

  it('notifempty leaves an empty log alone, several logs in one stanza', async () => {
    const dir = tempDir();
    for (const twin of ['ours', 'theirs']) {
      mkdirSync(join(dir, twin, 'logs'), { recursive: true });
      writeFileSync(join(dir, twin, 'logs', 'empty.log'), '');
      writeFileSync(join(dir, twin, 'logs', 'full.log'), 'data\n');
    }
    mkdirSync(join(dir, 'lr'));
    const r = await runRotate(join(dir, 'ours'), { paths: ['logs/*.log'], rotate: 2, notifempty: true });
    expect(r.result.ok).toBe(true);
    runLogrotate(join(dir, 'lr'), `${join(dir, 'theirs', 'logs', '*.log')} {\nrotate 2\nnotifempty\n}\n`);
    expect(readTree(join(dir, 'ours', 'logs'))).toEqual(readTree(join(dir, 'theirs', 'logs')));
    expect(statSync(join(dir, 'ours', 'logs', 'empty.log')).size).toBe(0);
  });
});
