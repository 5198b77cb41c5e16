import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanLogsAction } from '../../src/actions/scan-logs.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

function logDir(content: Record<string, string>): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  for (const [name, text] of Object.entries(content)) writeFileSync(join(dir, 'logs', name), text);
  return dir;
}

describe('scan-logs thresholds and alerts', () => {
  it('fails the run when a threshold is exceeded, with the alerts in the result', async () => {
    const dir = logDir({ 'app.log': 'ERROR a\nERROR b\nERROR c\nWARN d\n' });
    const r = (
      await runAction(
        scanLogsAction,
        { paths: ['logs/app.log'], thresholds: { errors: 2, warnings: 1 }, critical: {} },
        { baseDir: dir, clock: new ManualClock(NOW) },
      )
    ).result;
    expect(r.ok).toBe(false);
    expect(r.issuesFound).toBe(1);
    expect(r.alerts).toEqual([
      {
        event: 'threshold',
        key: 'errors',
        message: `errors: 3 matching lines (/ERROR|CRITICAL|FATAL/), over the threshold of 2; last: ${join(dir, 'logs/app.log')}:3: ERROR c`,
      },
    ]);
    expect(r.summary).toBe('scanned 31B in 1 file: errors 3, warnings 1 — ALERT errors 3 > 2');
    expect(r.warnings).toEqual([r.alerts![0]!.message]);
  });

  it('raises an alert on any match of a critical pattern, unless its threshold allows it', async () => {
    const text = [
      '2026-11-24T10:00:00Z ERROR Connection refused to db:5432',
      '2026-11-24T10:00:01Z CRITICAL Disk /data full',
      '2026-11-24T10:00:02Z ERROR API key invalid for tenant 7',
      '2026-11-24T10:00:03Z INFO all fine',
      '',
    ].join('\n');
    const dir = logDir({ 'app.log': text });
    const r = (
      await runAction(
        scanLogsAction,
        { paths: ['logs/*.log'], thresholds: { disk_full: 1 } },
        { baseDir: dir, clock: new ManualClock(NOW) },
      )
    ).result;
    expect(r.ok).toBe(false);
    expect(r.details!.counts).toEqual({
      errors: 3,
      warnings: 0,
      api_key_invalid: 1,
      connection_failed: 1,
      disk_full: 1,
      out_of_memory: 0,
      config_missing: 0,
    });
    expect(r.alerts!.map((a) => a.key)).toEqual(['api_key_invalid', 'connection_failed']);
  });

  it('with on_alert: warn, reports the alerts as warnings and does not fail', async () => {
    const dir = logDir({ 'app.log': 'OOM error in worker 3\n' });
    const r = (
      await runAction(scanLogsAction, { paths: ['logs/app.log'], on_alert: 'warn' }, { baseDir: dir })
    ).result;
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([expect.stringMatching(/^out_of_memory: 1 matching line \(/)]);
  });
});

describe('scan-logs since', () => {
  it('skips matching lines whose leading timestamp is older, whatever its format', async () => {
    const text = [
      '2026-11-22T12:00:00Z ERROR two days ago',
      '[2026-11-23 11:59:59,999] ERROR just over a day ago',
      '2026-11-23T13:30:00+01:00 ERROR 23h30 ago (12:30 UTC)',
      '2026-11-24 09:00:00.123456 ERROR three hours ago, no zone: UTC',
      'ERROR no timestamp: counted',
      '  at frame ERROR continuation line: counted',
      '',
    ].join('\n');
    const dir = logDir({ 'app.log': text });
    const r = (
      await runAction(
        scanLogsAction,
        { paths: ['logs/app.log'], since: '24h', critical: {}, sample_lines: 10 },
        { baseDir: dir, clock: new ManualClock(NOW) },
      )
    ).result;
    expect((r.details!.counts as { errors: number }).errors).toBe(4);
    expect(r.details!.skippedOlderLines).toBe(2);
    const lines = (r.details!.samples as { errors: { line: number }[] }).errors.map((s) => s.line);
    expect(lines).toEqual([3, 4, 5, 6]);
  });
});

describe('scan-logs paths', () => {
  it('does not read a log that is a link to a file outside its directory', async () => {
    const dir = logDir({ 'app.log': 'ERROR ok\n' });
    writeFileSync(join(dir, 'secret.txt'), 'ERROR password=hunter2\n');
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'logs', 'evil.log'));
    // Globs never follow links; a path named as is is checked where it leads.
    const r = (
      await runAction(
        scanLogsAction,
        { paths: ['logs/*.log', 'logs/evil.log'], critical: {} },
        { baseDir: dir },
      )
    ).result;
    expect((r.details!.counts as { errors: number }).errors).toBe(1);
    expect(JSON.stringify(r.details)).not.toContain('hunter2');
    expect(r.warnings).toEqual([expect.stringMatching(/evil\.log: leads outside .*logs .*not read/)]);
  });

  it('warns about a named log that does not exist yet', async () => {
    const dir = logDir({});
    const r = (await runAction(scanLogsAction, { paths: ['logs/app.log'], critical: {} }, { baseDir: dir }))
      .result;
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual(['logs/app.log: does not exist (yet)']);
  });
});

describe('scan-logs options', () => {
  const parse = (o: unknown) => scanLogsAction.schema.safeParse(o);
  it('reject invalid patterns, unknown threshold names and names used twice, with the key path', () => {
    const bad = parse({ paths: ['x'], patterns: { oops: 'a(b' } });
    expect(bad.error?.issues[0]).toMatchObject({ path: ['patterns', 'oops'] });
    expect(bad.error?.issues[0]?.message).toMatch(/not a valid regular expression/);
    const t = parse({ paths: ['x'], thresholds: { erors: 3 } });
    expect(t.error?.issues[0]).toMatchObject({ path: ['thresholds', 'erors'] });
    expect(t.error?.issues[0]?.message).toMatch(
      /no pattern named "erors" \(known: errors, warnings, api_key_invalid/,
    );
    const twice = parse({ paths: ['x'], patterns: { disk_full: 'x' } });
    expect(twice.error?.issues[0]?.message).toMatch(
      /"disk_full" is already a name in the default critical patterns/,
    );
    expect(parse({ paths: ['x'], sample_line: 3 }).success).toBe(false);
    expect(parse({ paths: ['x'], patterns: { slow: { regex: 'timeout', ignore_case: true } } }).success).toBe(
      true,
    );
  });
});
