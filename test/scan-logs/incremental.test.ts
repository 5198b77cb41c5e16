import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanLogsAction } from '../../src/actions/scan-logs.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction, type RunOptions } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

function lines(prefix: string, n: number, level = 'ERROR'): string {
  let s = '';
  for (let i = 1; i <= n; i++) s += `2026-11-24T11:00:00Z ${level} ${prefix} ${i}\n`;
  return s;
}

/** Runs scan-logs counting only `errors` (no default critical patterns), as one task would, run after run. */
function scanner(dir: string, extra: Record<string, unknown> = {}) {
  const opts: RunOptions = { baseDir: dir, clock: new ManualClock(NOW) };
  return async (more: Partial<RunOptions> = {}) => {
    const r = (
      await runAction(
        scanLogsAction,
        { paths: ['logs/*.log'], patterns: { errors: 'ERROR' }, critical: {}, sample_lines: 2, ...extra },
        { ...opts, ...more },
      )
    ).result;
    const files = r.details!.files as {
      path: string;
      reason: string;
      from: number;
      to: number;
      counts: { errors: number };
    }[];
    return { r, errors: (r.details!.counts as { errors: number }).errors, files };
  };
}

describe('scan-logs reads only what is new', () => {
  it('continues where the last run stopped, and numbers sample lines from the start of the file', async () => {
    const dir = tempDir();
    const log = join(dir, 'logs', 'app.log');
    execFileSync('mkdir', ['-p', join(dir, 'logs')]);
    writeFileSync(log, lines('a', 3) + lines('x', 2, 'INFO'));
    const scan = scanner(dir);
    const first = await scan();
    expect(first.errors).toBe(3);
    expect(first.files[0]).toMatchObject({ reason: 'new', from: 0 });

    appendFileSync(log, lines('b', 4));
    const second = await scan();
    expect(second.errors).toBe(4);
    expect(second.files[0]).toMatchObject({ reason: 'continued', from: first.files[0]!.to });
    const samples = (second.r.details!.samples as { errors: { file: string; line: number; text: string }[] })
      .errors;
    expect(samples).toEqual([
      { file: log, line: 8, text: '2026-11-24T11:00:00Z ERROR b 3' },
      { file: log, line: 9, text: '2026-11-24T11:00:00Z ERROR b 4' },
    ]);

    const third = await scan();
    expect(third.errors).toBe(0);
    expect(third.files[0]!.from).toBe(third.files[0]!.to);
  });

  it('leaves a partial last line for the next run, and counts it once complete', async () => {
    const dir = tempDir();
    execFileSync('mkdir', ['-p', join(dir, 'logs')]);
    const log = join(dir, 'logs', 'app.log');
    writeFileSync(log, 'ERROR whole\nERROR half-writ');
    const scan = scanner(dir);
    expect((await scan()).errors).toBe(1);
    appendFileSync(log, 'ten\n');
    const r = await scan();
    expect(r.errors).toBe(1);
    expect(
      (r.r.details!.samples as { errors: { text: string; line: number }[] }).errors.at(-1),
    ).toMatchObject({
      text: 'ERROR half-written',
      line: 2,
    });
  });

  it('reads a truncated file from its start', async () => {
    const dir = tempDir();
    execFileSync('mkdir', ['-p', join(dir, 'logs')]);
    const log = join(dir, 'logs', 'app.log');
    writeFileSync(log, lines('a', 5));
    const scan = scanner(dir);
    await scan();
    truncateSync(log, 0);
    appendFileSync(log, lines('b', 2));
    const r = await scan();
    expect(r.errors).toBe(2);
    expect(r.files[0]).toMatchObject({ reason: 'truncated', from: 0 });
    // Rewritten to a larger size than before: the fingerprint of the first bytes tells.
    writeFileSync(log, lines('c-longer-lines', 9));
    const again = await scan();
    expect(again.errors).toBe(9);
    expect(again.files[0]!.reason).toBe('replaced');
  });

  it('across a rename rotation, reads the old file to its end and the new one from its start', async () => {
    const dir = tempDir();
    execFileSync('mkdir', ['-p', join(dir, 'logs')]);
    const log = join(dir, 'logs', 'app.log');
    writeFileSync(log, lines('before', 3));
    const scan = scanner(dir);
    expect((await scan()).errors).toBe(3);
    appendFileSync(log, lines('late', 2)); // written after the scan, before the rotation
    renameSync(log, `${log}.1`);
    writeFileSync(log, lines('after', 4));
    const r = await scan();
    expect(r.errors).toBe(6);
    expect(r.files.map((f) => [f.path, f.reason, f.counts.errors]).sort()).toEqual([
      [log, 'new', 4],
      [`${log}.1`, 'renamed', 2],
    ]);
    expect((await scan()).errors).toBe(0);
  });

  it('with include_rotated, counts each line once across rename, copytruncate and compression', async () => {
    const dir = tempDir();
    execFileSync('mkdir', ['-p', join(dir, 'logs')]);
    const log = join(dir, 'logs', 'app.log');
    // An old generation nobody read yet is read whole, compressed or not.
    writeFileSync(`${log}.3`, lines('gen3', 2));
    execFileSync('gzip', [`${log}.3`]);
    writeFileSync(log, lines('one', 5));
    const scan = scanner(dir, { include_rotated: true });
    expect((await scan()).errors).toBe(7);

    // copytruncate: the content is copied to app.log.1, app.log is emptied in place.
    appendFileSync(log, lines('two', 2));
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    appendFileSync(log, lines('three', 3));
    const r = await scan();
    expect(r.errors).toBe(5);
    const byPath = Object.fromEntries(
      r.files.map((f) => [f.path.split('/').pop(), [f.reason, f.counts.errors]]),
    );
    expect(byPath).toMatchObject({ 'app.log': ['truncated', 3], 'app.log.1': ['adopted', 2] });

    // app.log.1 is compressed into app.log.2.gz (logrotate's next cycle): already read, not counted again.
    renameSync(`${log}.1`, `${log}.2`);
    execFileSync('gzip', [`${log}.2`]);
    appendFileSync(log, lines('four', 1));
    const c = await scan();
    expect(c.errors).toBe(1);
    expect(c.files.find((f) => f.path.endsWith('.2.gz'))).toMatchObject({
      reason: 'adopted',
      counts: { errors: 0 },
    });
    expect((await scan()).errors).toBe(0);
  });

  it('reads lines appended after the last scan from a generation compressed since', async () => {
    const dir = tempDir();
    execFileSync('mkdir', ['-p', join(dir, 'logs')]);
    const log = join(dir, 'logs', 'app.log');
    writeFileSync(log, lines('one', 3));
    const scan = scanner(dir, { include_rotated: true });
    await scan();
    appendFileSync(log, lines('unseen', 2));
    renameSync(log, `${log}.1`);
    execFileSync('gzip', [`${log}.1`]);
    writeFileSync(log, '');
    const r = await scan();
    expect(r.errors).toBe(2);
    expect(r.files.find((f) => f.path.endsWith('.1.gz'))).toMatchObject({
      reason: 'adopted',
      counts: { errors: 2 },
    });
  });

  it('keeps its state in the task state dir, written whole, and starts over from a damaged one', async () => {
    const dir = tempDir();
    execFileSync('mkdir', ['-p', join(dir, 'logs')]);
    writeFileSync(join(dir, 'logs', 'a.log'), lines('a', 2));
    const scan = scanner(dir);
    const r = await scan();
    const stateFile = r.r.details!.stateFile as string;
    expect(stateFile).toBe(join(dir, '.caretaker/tasks/test-task/scan-logs-state.json'));
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      files: Record<string, { offset: number; path: string }>;
    };
    expect(Object.values(state.files)).toEqual([
      expect.objectContaining({ path: join(dir, 'logs', 'a.log'), offset: 62 }),
    ]);
    writeFileSync(stateFile, '{"version":1,"files":');
    const again = await scan();
    expect(again.errors).toBe(2);
    expect(again.r.warnings).toEqual([
      expect.stringMatching(/scan-logs-state\.json is unreadable .* read from its start/),
    ]);
  });

  it('in a dry run counts but does not move the offsets', async () => {
    const dir = tempDir();
    execFileSync('mkdir', ['-p', join(dir, 'logs')]);
    writeFileSync(join(dir, 'logs', 'a.log'), lines('a', 2));
    const scan = scanner(dir);
    const dry = await scan({ dryRun: true });
    expect(dry.errors).toBe(2);
    expect(dry.r.plan![0]).toMatch(/^read .*a\.log bytes 0-62 \(new\)$/);
    expect((await scan()).errors).toBe(2);
  });
});
