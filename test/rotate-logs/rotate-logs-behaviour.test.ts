/**
 * rotate-logs on real files: when it rotates (frequency, state file, forced manual runs), what a
 * dry run reports, what the result says, scripts, and the paths it refuses to touch.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { rotationDue, type DueRules } from '../../src/actions/rotate-logs/rotation-due.js';
import { rotateLogsSchema } from '../../src/actions/rotate-logs/schema.js';
import { readTree, runRotate } from '../support/rotate.js';
import { tempDir } from '../support/tmp.js';

function logsDir(files: Record<string, string>): { dir: string; logs: string } {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  for (const [name, text] of Object.entries(files))
    writeFileSync(join(logs, name), name.endsWith('.gz') ? gzipSync(text) : text);
  return { dir, logs };
}

const local = (y: number, m: number, d: number, h = 3) => new Date(y, m - 1, d, h).getTime();

describe('rotate-logs: when it rotates', () => {
  it('a daily rotation happens once a day; a manual run forces it like logrotate -f', async () => {
    const { dir, logs } = logsDir({ 'app.log': 'day 0\n' });
    const clock = new ManualClock(local(2026, 11, 24));
    const opts = { paths: ['logs/app.log'], frequency: 'daily', rotate: 5 };
    const sched = { trigger: 'schedule' as const, clock };
    // First sight: recorded as rotated now, as logrotate's state file does.
    let r = await runRotate(dir, opts, sched);
    expect(r.result.details?.rotated).toEqual([]);
    expect(JSON.stringify(r.result.details?.notDue)).toMatch(/first seen/);
    clock.advanceTo(local(2026, 11, 25));
    r = await runRotate(dir, opts, sched);
    expect(r.result.details?.rotated).toEqual([join(logs, 'app.log')]);
    writeFileSync(join(logs, 'app.log'), 'day 1\n');
    clock.advanceTo(local(2026, 11, 25, 22));
    r = await runRotate(dir, opts, sched);
    expect(r.result.details?.rotated, 'the same day again').toEqual([]);
    r = await runRotate(dir, opts, { trigger: 'manual', clock });
    expect(r.result.details?.rotated, 'forced').toEqual([join(logs, 'app.log')]);
    expect(Object.keys(readTree(logs)).sort()).toEqual(['app.log.1', 'app.log.2']);
    expect(
      JSON.parse(readFileSync(join(dir, '.caretaker/tasks/rotate/rotate-state.json'), 'utf8')).logs,
    ).toEqual({
      [join(logs, 'app.log')]: local(2026, 11, 25, 22),
    });
  });

  it('follows logrotate for size, minsize, maxsize, notifempty and the calendar', () => {
    const base = {
      frequency: undefined,
      size: undefined,
      minsize: undefined,
      maxsize: undefined,
      notifempty: false,
    };
    const now = local(2026, 11, 24, 12); // a Tuesday
    const due = (rules: Partial<DueRules>, size: number, last: number | undefined, force = false) =>
      rotationDue({ ...base, ...rules }, { size, lastRotated: last, now, force }).due;
    expect(due({ size: 100 }, 99, undefined)).toBe(false);
    expect(due({ size: 100 }, 100, undefined)).toBe(true);
    expect(due({ frequency: 'daily', minsize: 100 }, 50, local(2026, 11, 23))).toBe(false);
    expect(due({ frequency: 'daily', minsize: 100 }, 150, local(2026, 11, 23))).toBe(true);
    expect(due({ frequency: 'monthly', maxsize: 100 }, 101, now)).toBe(true);
    expect(due({ frequency: 'weekly' }, 1, local(2026, 11, 22))).toBe(false); // Sunday -> Tuesday
    expect(due({ frequency: 'weekly' }, 1, local(2026, 11, 17))).toBe(true); // 7 days
    expect(due({ frequency: 'monthly' }, 1, local(2026, 11, 1))).toBe(false);
    expect(due({ frequency: 'monthly' }, 1, local(2026, 10, 31))).toBe(true);
    expect(due({ frequency: 'yearly' }, 1, local(2026, 1, 1))).toBe(false);
    expect(due({ frequency: 'hourly' }, 1, local(2026, 11, 24, 11))).toBe(true);
    expect(due({ notifempty: true }, 0, undefined, true)).toBe(false);
    expect(due({ frequency: 'daily', minsize: 100 }, 1, now, true)).toBe(true); // forced
  });
});

describe('rotate-logs: which files', () => {
  it('a glob that also matches rotated generations rotates only the live logs (no app.log.1.1)', async () => {
    const { dir, logs } = logsDir({
      'app.log': 'live\n',
      'app.log.1': 'one\n',
      'app.log-20240101.gz': 'dated\n',
      'other.txt': 'other\n',
    });
    const r = await runRotate(dir, { paths: ['logs/*'], rotate: 3 });
    expect(r.result.details?.rotated).toEqual([join(logs, 'app.log'), join(logs, 'other.txt')]);
    expect(Object.keys(readTree(logs)).sort()).toEqual([
      'app.log-20240101.gz',
      'app.log.1',
      'app.log.2',
      'other.txt.1',
    ]);
  });
});

describe('rotate-logs: dry run and result', () => {
  it('a dry run lists every rename, compression and deletion and changes nothing', async () => {
    const { dir, logs } = logsDir({
      'app.log': 'live\n',
      'app.log.1': 'one\n',
      'app.log.2.gz': 'two\n',
      'app.log.3.gz': 'three\n',
    });
    const before = readTree(logs);
    const r = await runRotate(
      dir,
      { paths: ['logs/app.log'], rotate: 3, compress: true, delaycompress: true },
      { dryRun: true },
    );
    expect(r.result.changed).toBe(false);
    expect(r.result.plan).toEqual([
      `compress ${logs}/app.log.1 -> ${logs}/app.log.1.gz, then delete ${logs}/app.log.1`,
      `delete ${logs}/app.log.3.gz (beyond rotate 3)`,
      `rename ${logs}/app.log.2.gz -> ${logs}/app.log.3.gz`,
      `rename ${logs}/app.log.1.gz -> ${logs}/app.log.2.gz`,
      `rename ${logs}/app.log -> ${logs}/app.log.1`,
    ]);
    expect(readTree(logs)).toEqual(before);
    // The state dir exists in every real run; the action must not have created its own state.
    expect(existsSync(join(dir, '.caretaker', 'tasks'))).toBe(false);
  });

  it('reports files rotated, bytes before and after, and bytes freed', async () => {
    const big = 'a fairly repetitive log line with a counter 0000\n'.repeat(20_000);
    const { dir, logs } = logsDir({ 'app.log': big, 'app.log.1.gz': 'old\n', 'app.log.2.gz': 'older\n' });
    const r = await runRotate(dir, { paths: ['logs/app.log'], rotate: 2, compress: true });
    const d = r.result.details as Record<string, unknown>;
    expect(d.rotated).toEqual([join(logs, 'app.log')]);
    expect(d.bytesBefore).toBeGreaterThan(big.length);
    expect(d.bytesAfter).toBeLessThan(big.length / 10);
    expect(r.result.bytesFreed).toBeGreaterThan(big.length * 0.9);
    expect(r.result.summary).toMatch(
      /rotated 1 log, compressed 1 .*deleted 1 old, logs and generations .* -> .*, freed/,
    );
    expect((d.deleted as { path: string }[]).map((x) => x.path)).toEqual([join(logs, 'app.log.2.gz')]);
  });
});

describe('rotate-logs: scripts and signals', () => {
  it('runs prerotate/postrotate per log, or once with sharedscripts', async () => {
    const { dir } = logsDir({ 'a.log': 'a\n', 'b.log': 'b\n' });
    const trace = join(dir, 'trace');
    const scripts = { prerotate: `echo "pre $1" >> ${trace}`, postrotate: `echo "post $1" >> ${trace}` };
    await runRotate(dir, { paths: ['logs/*.log'], rotate: 2, ...scripts });
    expect(readFileSync(trace, 'utf8')).toBe(
      `pre ${dir}/logs/a.log\npost ${dir}/logs/a.log\npre ${dir}/logs/b.log\npost ${dir}/logs/b.log\n`,
    );
    writeFileSync(trace, '');
    await runRotate(dir, { paths: ['logs/*.log'], rotate: 2, sharedscripts: true, ...scripts });
    expect(readFileSync(trace, 'utf8')).toBe(`pre ${dir}/logs/*.log\npost ${dir}/logs/*.log\n`);
  });

  it('a failing prerotate leaves its log in place', async () => {
    const { dir, logs } = logsDir({ 'app.log': 'keep me\n' });
    const r = await runRotate(dir, { paths: ['logs/app.log'], rotate: 2, prerotate: 'exit 3' });
    expect(r.result.warnings?.join()).toMatch(/prerotate script .* failed \(exit 3\): not rotated/);
    expect(readTree(logs)).toEqual({ 'app.log': 'keep me\n' });
  });

  it('warns when the pid file of signal cannot be read', async () => {
    const { dir } = logsDir({ 'app.log': 'x\n' });
    const r = await runRotate(dir, { paths: ['logs/app.log'], signal: { pidfile: 'missing.pid' } });
    expect(r.result.warnings?.join()).toMatch(/missing\.pid cannot be read/);
  });
});

describe('rotate-logs: paths it refuses', () => {
  it('does not rotate a log that is a symbolic link, nor follow it', async () => {
    const { dir, logs } = logsDir({ 'app.log': 'mine\n' });
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', 'secret.log'), 'secret\n');
    symlinkSync(join(dir, 'outside', 'secret.log'), join(logs, 'evil.log'));
    // Named explicitly: refused with a warning. Matched by a glob: links are not even matched.
    const named = await runRotate(dir, { paths: ['logs/evil.log'], rotate: 2, compress: true });
    expect(named.result.warnings?.join()).toMatch(/evil\.log is a symbolic link: not rotated/);
    await runRotate(dir, { paths: ['logs/*.log'], rotate: 2, compress: true });
    expect(readTree(join(dir, 'outside'))).toEqual({ 'secret.log': 'secret\n' });
    expect(Object.keys(readTree(logs)).sort()).toEqual(['app.log.1.gz', 'evil.log']);
  });

  it('moves and deletes planted generation links without touching their targets', async () => {
    const { dir, logs } = logsDir({ 'app.log': 'live\n', 'app.log.1': 'one\n' });
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', 'a'), 'target a\n');
    writeFileSync(join(dir, 'outside', 'b'), 'target b\n');
    symlinkSync(join(dir, 'outside', 'a'), join(logs, 'app.log.2'));
    symlinkSync(join(dir, 'outside', 'b'), join(logs, 'app.log.3'));
    await runRotate(dir, { paths: ['logs/app.log'], rotate: 2 });
    expect(readTree(join(dir, 'outside'))).toEqual({ a: 'target a\n', b: 'target b\n' });
    expect(readTree(logs)).toEqual({ 'app.log.1': 'live\n', 'app.log.2': 'one\n' });
  });

  it('leaves a delayed generation that is a link uncompressed and its target intact', async () => {
    const { dir, logs } = logsDir({ 'app.log': 'live\n' });
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', 'passwd'), 'root:x:0:0\n');
    symlinkSync(join(dir, 'outside', 'passwd'), join(logs, 'app.log.1'));
    const r = await runRotate(dir, {
      paths: ['logs/app.log'],
      rotate: 3,
      compress: true,
      delaycompress: true,
    });
    expect(r.result.warnings?.join()).toMatch(/app\.log\.1 is not a regular file/);
    expect(readTree(join(dir, 'outside'))).toEqual({ passwd: 'root:x:0:0\n' });
  });

  it('does not write through a planted temp-file link', async () => {
    const { dir, logs } = logsDir({ 'app.log': 'live\n' });
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', 'victim'), 'untouched\n');
    symlinkSync(join(dir, 'outside', 'victim'), join(logs, '.app.log.1.gz.caretaker-tmp'));
    await runRotate(dir, { paths: ['logs/app.log'], rotate: 2, compress: true });
    expect(readTree(join(dir, 'outside'))).toEqual({ victim: 'untouched\n' });
    expect(readTree(logs)).toEqual({ 'app.log.1.gz': 'live\n' });
  });

  it('does not descend into a linked directory matched by a glob', async () => {
    const { dir, logs } = logsDir({});
    mkdirSync(join(logs, 'real'));
    writeFileSync(join(logs, 'real', 'x.log'), 'x\n');
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', 'y.log'), 'y\n');
    symlinkSync(join(dir, 'outside'), join(logs, 'linked'));
    await runRotate(dir, { paths: ['logs/*/*.log'], rotate: 1 });
    expect(readTree(join(dir, 'outside'))).toEqual({ 'y.log': 'y\n' });
    expect(readTree(join(logs, 'real'))).toEqual({ 'x.log.1': 'x\n' });
  });

  it('refuses /, the home directory and the state dir as roots', async () => {
    const dir = tempDir();
    for (const paths of [['/*.log'], [join(homedir(), '*.log')], ['.caretaker/*.log']]) {
      const r = await runRotate(dir, { paths });
      expect(r.result.ok, paths[0]).toBe(false);
      expect(r.result.summary).toMatch(/refusing|state dir/);
    }
  });
});

describe('rotate-logs options', () => {
  it('are all documented in docs/actions/rotate-logs.md, and nothing else is', () => {
    const doc = readFileSync(
      join(import.meta.dirname, '..', '..', 'docs', 'actions', 'rotate-logs.md'),
      'utf8',
    );
    const documented = [...doc.matchAll(/^\| `([a-z_]+)` *\|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(rotateLogsSchema.shape).sort());
  });

  it('rejects contradictory or unsafe options with a clear message', () => {
    const msg = (o: object) =>
      rotateLogsSchema
        .safeParse({ paths: ['x.log'], ...o })
        .error?.issues.map((i) => i.message)
        .join('; ');
    expect(msg({ size: '10MB', frequency: 'daily' })).toMatch(/size and frequency exclude each other/);
    expect(msg({ delaycompress: true })).toMatch(/delaycompress needs compress/);
    expect(msg({ olddir: 'old/%Y' })).toMatch(/needs dateext/);
    expect(msg({ create: { mode: 640 } })).toMatch(/quoted octal string/);
    expect(msg({ maxage: '12h' })).toMatch(/whole days/);
    expect(msg({ dateext: true, dateformat: '-%Y%b' })).toMatch(/dateformat may only use/);
    expect(msg({ olddir: '../elsewhere' })).toMatch(/cannot go up/);
    expect(msg({ pause_writer: 'app.pid' })).toMatch(/only makes sense with copytruncate/);
    expect(msg({ rotate: 4, compress: true, maxage: '30d' })).toBeUndefined();
  });
});
