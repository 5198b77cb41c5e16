/**
 * What /metrics says, on a manual clock with a real store: counters of the runs made that a
 * restart and a prune do not lower, missed runs, what runs now and is due next, backups, health
 * checks and the disk forecast from the tasks' latest runs, and a `host` label in fleet mode
 * with only this host's runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statfsSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetSchema } from '../support/fleet.js';
import { HOUR, T0, harness } from '../support/engine-harness.js';
import { PG_URL, needPostgres } from '../support/services.js';
import { VERSION } from '../../src/version.js';

const DAY = 24 * HOUR;

/** series → value, from an exposition text. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const promtoolMissing = spawnSync('promtool', ['--version']).status !== 0;
function lint(text: string): void {
  if (promtoolMissing) return; // test/server/metrics-prometheus.test.ts says so (required under CI)
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(`${r.stdout}${r.stderr}`).toBe('');
}

describe('prometheus metrics from the store', () => {
  it('count the runs made, missed runs and what runs now; a restart and a prune lower no counter', async () => {
    const h = await harness(
      `  hourly: { action: gate, schedule: "0 * * * *", with: { outcome: ok }, missed: skip }
  catchup: { action: gate, schedule: "0 * * * *", with: { outcome: ok }, missed: all, missed_max: 2 }
  slow: { action: gate }
  broken: { action: gate, with: { outcome: fail } }
`,
      { start: T0 + 30_000 },
    );
    // Down from 00:00:30 to 05:30: hourly skips its 5 fires (one skip), catchup runs 2 and skips 3.
    await h.restart(T0 + 5 * HOUR + 30 * 60_000);
    await h.ct.runNow('broken', { retry: false });
    await h.ct.runNow('slow', { wait: false });
    await h.settle();
    let m = parse(await h.ct.prometheusMetrics());
    expect(m.get('caretaker_missed_runs_total{task="hourly"}')).toBe(1);
    expect(m.get('caretaker_task_runs_total{task="hourly",status="skipped"}')).toBe(1);
    expect(m.get('caretaker_missed_runs_total{task="catchup"}')).toBe(1);
    expect(m.get('caretaker_task_runs_total{task="catchup",status="success"}')).toBe(2);
    expect(m.get('caretaker_task_runs_total{task="broken",status="failed"}')).toBe(1);
    expect(m.get('caretaker_missed_runs_total{task="broken"}')).toBe(0);
    expect(m.get('caretaker_task_running{task="slow"}')).toBe(1);
    expect(m.get('caretaker_task_running{task="hourly"}')).toBe(0);
    expect(m.get('caretaker_task_paused{task="slow"}')).toBe(0);
    expect(m.get('caretaker_task_next_run_timestamp_seconds{task="hourly"}')).toBe((T0 + 6 * HOUR) / 1000);
    expect(m.get('caretaker_task_last_success_timestamp_seconds{task="catchup"}')).toBe(
      (T0 + 5 * HOUR + 30 * 60_000) / 1000,
    );
    expect(m.has('caretaker_task_last_success_timestamp_seconds{task="broken"}')).toBe(false);
    expect(m.get('caretaker_incidents_open')).toBe(1);

    h.gates.release('slow');
    await h.settle();
    m = parse(await h.ct.prometheusMetrics());
    expect(m.get('caretaker_task_running{task="slow"}')).toBe(0);
    expect(m.get('caretaker_task_runs_total{task="slow",status="success"}')).toBe(1);
    expect(m.get('caretaker_task_duration_seconds_count{task="catchup"}')).toBe(2);

    // Three days on, a restart and a prune of everything older than a day: the counters stay.
    await h.restart(T0 + 3 * DAY + 5 * HOUR + 40 * 60_000);
    const rolledUp = (await h.ct.metrics(30)).total.runs;
    await h.ct.pruneHistory(1);
    // The daily rollup (caretaker metrics) lost those days; the lifetime totals did not.
    expect((await h.ct.metrics(30)).total.runs).toBeLessThan(rolledUp);
    const after = parse(await h.ct.prometheusMetrics());
    for (const [series, value] of m)
      if (series.startsWith('caretaker_task_runs_total') || series.startsWith('caretaker_missed_runs_total'))
        expect(after.get(series), series).toBeGreaterThanOrEqual(value);
    expect(after.get('caretaker_task_runs_total{task="broken",status="failed"}')).toBe(1);
    expect(after.get('caretaker_task_runs_total{task="slow",status="success"}')).toBe(1);
    lint(await h.ct.prometheusMetrics());
  });

  it('report backups, verification, health checks and the disk forecast from the latest runs', async () => {
    const h = await harness('  placeholder: { action: gate }\n', { autostart: false });
    const data = join(h.dir, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'a.txt'), 'x'.repeat(10_000));
    const text = `version: 1
state_dir: state
tasks:
  backup-data: { action: backup, with: { paths: [data], dest: archives } }
  verify: { action: verify-backups, with: { dest: archives } }
  machine: { action: health, with: { disk: [{ path: "${h.dir}", warn: 99%, fail: 100% }], memory: { warn: 100%, fail: 100% } } }
`;
    await h.restart(T0, text);
    // Four days of samples growing 1 GiB a day: a forecast of the disk filling up.
    const fs = statfsSync(h.dir);
    const used = (fs.blocks - fs.bfree) * fs.bsize;
    const store = await h.store();
    for (let d = 4; d >= 1; d--)
      await store.recordSamples('machine', T0 - d * DAY, [
        { key: `disk:${h.dir}:used_bytes`, value: used - d * 2 ** 30, unit: 'bytes', better: 'lower' },
      ]);
    const backup = await h.ct.runNow('backup-data');
    const verify = await h.ct.runNow('verify');
    const health = await h.ct.runNow('machine');
    expect([backup.status, verify.status, health.status]).toEqual(['success', 'success', 'success']);
    const m = parse(await h.ct.prometheusMetrics());
    const details = backup.result!.details as { bytesOut: number; verified: boolean };
    expect(details.verified).toBe(true);
    expect(m.get('caretaker_backup_size_bytes{task="backup-data"}')).toBe(details.bytesOut);
    expect(m.get('caretaker_backup_last_verified_timestamp_seconds{task="backup-data"}')).toBe(
      backup.finishedAt! / 1000,
    );
    expect(m.get('caretaker_backup_last_verified_timestamp_seconds{task="verify"}')).toBe(
      verify.finishedAt! / 1000,
    );
    expect(m.get(`caretaker_health_check_status{task="machine",kind="disk",check="${h.dir}"}`)).toBe(0);
    expect(m.get(`caretaker_health_check_status{task="machine",kind="memory",check="memory"}`)).toBe(0);
    const ratio = m.get(
      `caretaker_health_check_value{task="machine",kind="disk",check="${h.dir}",unit="ratio"}`,
    )!;
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(1);
    const forecast = (health.result!.details as { forecasts: { fullAt: string | null }[] }).forecasts[0]!;
    expect(forecast.fullAt).not.toBeNull();
    const full = m.get(
      `caretaker_disk_full_timestamp_seconds{task="machine",check="${h.dir}",path="${h.dir}"}`,
    )!;
    expect(full).toBe(Date.parse(forecast.fullAt!) / 1000);
    expect(full * 1000).toBeGreaterThan(T0);
    lint(await h.ct.prometheusMetrics());

    // A verification that fails later does not hide when the archives were last verified good.
    for (const f of readdirSync(join(h.dir, 'archives')))
      if (f.endsWith('.tar.gz')) truncateSync(join(h.dir, 'archives', f), 100);
    await h.advance(60_000);
    expect((await h.ct.runNow('verify')).status).toBe('failed');
    const later = parse(await h.ct.prometheusMetrics());
    expect(later.get('caretaker_backup_last_verified_timestamp_seconds{task="verify"}')).toBe(
      verify.finishedAt! / 1000,
    );
    expect(later.get('caretaker_task_runs_total{task="verify",status="failed"}')).toBe(1);
  });
});

const noPostgres = await needPostgres();
describe.skipIf(noPostgres)('prometheus metrics in fleet mode', () => {
  it('label every sample with the host and count only its own runs', async () => {
    const schema = fleetSchema();
    const h = await harness(`  job: { action: gate, with: { outcome: ok } }\n`, {
      top: `store: ${PG_URL}\nstore_schema: ${schema}`,
    });
    await h.ct.runNow('job');
    await h.ct.runNow('job');
    // Another host's run of the same task, in the same store.
    const store = await h.store();
    const other = await store.insertRun({
      task: 'job',
      host: 'other-host',
      trigger: 'manual',
      scheduledFor: null,
      notBefore: null,
      queuedAt: T0,
      status: 'running',
      attempt: 1,
      dryRun: false,
      pid: 1,
      startedAt: T0,
    });
    await store.finishRun(other.id, { status: 'success', finishedAt: T0 + 1, durationMs: 1 });
    const text = await h.ct.prometheusMetrics();
    const m = parse(text);
    expect(m.get('caretaker_task_runs_total{host="test-host",task="job",status="success"}')).toBe(2);
    expect(
      m.get(`caretaker_build_info{host="test-host",version="${VERSION}",node="${process.version}"}`),
    ).toBe(1);
    for (const series of m.keys()) expect(series, series).toMatch(/\{host="test-host"/);
    expect(text).not.toContain('other-host');
    lint(text);
  });
});
