/**
 * health inside a caretaker: samples recorded after each run, a disk forecast and trends read
 * back from them, a Markdown report saved per run under state_dir/reports.
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DiskForecast } from '../../src/actions/health/analysis.js';
import type { CheckResult } from '../../src/actions/health/check-types.js';
import { harness, HOUR, T0 } from '../support/engine-harness.js';
import { httpServer } from '../support/loopback-servers.js';

const DAY = 24 * HOUR;

describe('health: samples, forecast, trends', () => {
  it('warns when the fitted growth fills the disk within the horizon', async () => {
    const srv = await httpServer({ '/api': (_q, res) => res.writeHead(200).end('ok') });
    const h = await harness('  placeholder: { action: gate }\n', { autostart: false });
    const tasks = `  health:\n    action: health\n    with:\n      disk: { name: data, path: "${h.dir}" }\n      http: { name: api, url: "${srv.url}/api" }\n      forecast: { days: 7, horizon: 14d }\n`;
    await h.restart(T0, `version: 1\nstate_dir: state\ntasks:\n${tasks}`);
    const st = statfsSync(h.dir);
    const used = (st.blocks - st.bfree) * st.bsize;
    const free = st.bavail * st.bsize;
    // A week of hourly history growing so that the disk is full 5 days from now; latency tripled
    // from the older half of the week to the recent half.
    const perDay = free / 5;
    for (let t = T0 - 7 * DAY; t < T0; t += HOUR) {
      await (
        await h.store()
      ).recordSamples('health', t, [
        {
          key: 'disk:data:used_bytes',
          value: used - ((T0 - t) / DAY) * perDay,
          unit: 'bytes',
          better: 'lower',
        },
        { key: 'http:api:latency_ms', value: t < T0 - 3.5 * DAY ? 100 : 300, unit: 'ms', better: 'lower' },
      ]);
    }
    const run = await h.ct.runNow('health');
    expect(run.status).toBe('warning');
    const details = run.result!.details as { checks: CheckResult[]; forecasts: DiskForecast[] };
    const [f] = details.forecasts;
    expect(f!.status).toBe('warn');
    expect(f!.daysLeft!).toBeGreaterThan(4.8);
    expect(f!.daysLeft!).toBeLessThan(5.2);
    expect(f!.perDay! / perDay).toBeCloseTo(1, 1);
    const disk = details.checks.find((c) => c.name === 'data')!;
    expect(disk.status).toBe('warn');
    expect(disk.message).toMatch(/full in 5 days \(\d{4}-\d\d-\d\d\), within the 14d horizon/);
    expect(details.checks.find((c) => c.name === 'api')!.trends).toEqual({ latency_ms: 'degrading' });
    // This run's own values were recorded too.
    const series = await (await h.store()).sampleSeries('health', 'disk:data:used_bytes', T0 - HOUR);
    expect(series.at(-1)!.at).toBe(run.finishedAt);
    await h.stop();
  });

  it('saves a Markdown report per run and keeps only the newest', async () => {
    const h = await harness('  placeholder: { action: gate }\n', { autostart: false });
    const text = `version: 1\nstate_dir: state\nreports: { keep: 2 }\ntasks:\n  health: { action: health, with: { disk: { name: data, path: "${h.dir}", fail: 0% } } }\n`;
    await h.restart(T0, text);
    for (let i = 0; i < 3; i++) {
      const run = await h.ct.runNow('health');
      expect(run.status).toBe('failed');
      await h.advance(HOUR);
    }
    const dir = join(h.dir, 'state', 'reports');
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['health-20261124T010000Z.md', 'health-20261124T020000Z.md']);
    const md = readFileSync(join(dir, files[1]!), 'utf8');
    expect(md).toMatch(/^# Health report: FAIL\n/);
    expect(md).toContain('| FAIL | disk data |');
    expect(md).toContain('### Disk forecast');
    await h.stop();
  });
});
