/**
 * health: checks of this machine (disk through statfs, memory, cpu, load), a real child process,
 * commands, an application's own JSON and JSON Lines files, and remedies with their brake.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statfsSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { CheckResult } from '../../src/actions/health/check-types.js';
import { healthAction } from '../../src/actions/health/health.js';
import type { ActionResult } from '../../src/actions/types.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction } from '../support/run-action.js';
import { closedPort } from '../support/loopback-servers.js';
import { processAlive, tempDir, waitUntil } from '../support/tmp.js';

function checks(r: ActionResult): Record<string, CheckResult> {
  return Object.fromEntries((r.details as { checks: CheckResult[] }).checks.map((c) => [c.name, c]));
}

describe('health: disk, memory, cpu, load', () => {
  it('measures the filesystem of a path with statfs, as df computes used %', async () => {
    const dir = tempDir();
    const r = (
      await runAction(
        healthAction,
        {
          disk: [
            { name: 'tmp', path: dir },
            { name: 'strict', path: dir, fail: '0%' },
          ],
        },
        { baseDir: dir },
      )
    ).result;
    const st = statfsSync(dir);
    const used = (st.blocks - st.bfree) / (st.blocks - st.bfree + st.bavail);
    const c = checks(r);
    expect(c.tmp!.status).toBe(used >= 0.95 ? 'fail' : used >= 0.9 ? 'warn' : 'ok');
    expect(c.tmp!.value as number).toBeCloseTo(used * 100, 0);
    expect(c.tmp!.details).toMatchObject({ capacityBytes: (st.blocks - st.bfree + st.bavail) * st.bsize });
    expect(c.strict!.status).toBe('fail'); // any use is over 0%
    expect(r.samples!.map((s) => s.key)).toContain('disk:tmp:used_bytes');
  });

  it('reads memory from /proc/meminfo, CPU over a sample, load per core, and judges each', async () => {
    const info = readFileSync('/proc/meminfo', 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)![1]);
    const memUsed = (1 - kb('MemAvailable') / kb('MemTotal')) * 100;
    const loadPerCore = loadavg()[1]! / availableParallelism();
    // Thresholds on either side of what this machine measures (with a margin for drift), so a
    // check that did not measure or did not judge would give the wrong status.
    const below = Math.max(0, Math.floor(memUsed - 5));
    const above = Math.min(100, Math.ceil(memUsed + 5));
    // One core kept busy during the CPU sample: the sample must see it.
    const busy = spawn(
      process.execPath,
      ['-e', 'console.log("busy"); const e = Date.now() + 5000; while (Date.now() < e);'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    onTestFinished(() => void busy.kill('SIGKILL'));
    await new Promise((r) => busy.stdout.once('data', r));
    const run = (options: object) => runAction(healthAction, options, { baseDir: tempDir() });
    const over = checks(
      (
        await run({
          memory: { warn: `${below}%`, fail: '100%' },
          cpu: { sample: '300ms', warn: '10%', fail: '100%' },
          load: { warn: loadPerCore / 2, fail: 1000 },
        })
      ).result,
    );
    const failing = checks((await run({ memory: { warn: `${below}%`, fail: `${below}%` } })).result);
    const under = checks(
      (
        await run({
          memory: { warn: `${above}%`, fail: '100%' },
          load: { warn: loadPerCore * 2 + 1, fail: loadPerCore * 4 + 2 },
        })
      ).result,
    );
    busy.kill('SIGKILL');

    expect(over.memory!.value as number).toBeCloseTo(memUsed, -0.5);
    expect(over.cpu!.value as number).toBeGreaterThanOrEqual(10); // one core of the machine is busy
    expect(over.cpu!.value as number).toBeLessThanOrEqual(100);
    expect(over.load!.value as number).toBeCloseTo(loadPerCore, 0);
    expect(over.memory!.status).toBe('warn');
    expect(over.cpu!.status).not.toBe('ok');
    expect(over.load!.status).toBe('warn');
    expect(failing.memory!.status).toBe('fail');
    expect(under.memory!.status).toBe('ok');
    expect(under.load!.status).toBe('ok');
  });
});

describe('health: process', () => {
  it('finds a process by pid file and by command line, with its RSS; fails once it is gone', async () => {
    const dir = tempDir();
    const marker = `ct-proc-${process.pid}-${Date.now()}`;
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', marker], { stdio: 'ignore' });
    onTestFinished(() => void child.kill('SIGKILL'));
    await waitUntil(() => child.pid !== undefined && processAlive(child.pid), 'the child to start');
    writeFileSync(join(dir, 'app.pid'), `${child.pid}\n`);
    const spec = {
      process: [
        { name: 'byfile', pid_file: 'app.pid', sample: '100ms', rss_warn: '1KB' },
        { name: 'bycmd', match: marker, sample: '100ms' },
      ],
    };
    let c = checks((await runAction(healthAction, spec, { baseDir: dir })).result);
    expect(c.byfile!.status).toBe('warn'); // a node process is well over 1KB resident
    expect(c.byfile!.value as number).toBeGreaterThan(1024 * 1024);
    expect(c.bycmd).toMatchObject({ status: 'ok', details: { pids: [child.pid] } });
    child.kill('SIGKILL');
    await waitUntil(() => !processAlive(child.pid!), 'the child to exit');
    c = checks((await runAction(healthAction, spec, { baseDir: dir })).result);
    expect(c.byfile).toMatchObject({ status: 'fail', message: 'not running' });
    expect(c.bycmd).toMatchObject({ status: 'fail', message: 'not running' });
  });

  it('counts a zombie (exited, not yet reaped by its parent) as not running', async () => {
    const dir = tempDir();
    // The inner shell writes its pid and exits; the outer one becomes `sleep`, which never reaps it.
    const parent = spawn('sh', ['-c', `sh -c 'echo $$ > ${join(dir, 'app.pid')}' & exec sleep 30`], {
      stdio: 'ignore',
    });
    onTestFinished(() => void parent.kill('SIGKILL'));
    const state = (): string | undefined => {
      try {
        const pid = readFileSync(join(dir, 'app.pid'), 'utf8').trim();
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2)[0];
      } catch {
        return undefined;
      }
    };
    await waitUntil(() => state() === 'Z', 'the inner shell to become a zombie');
    const spec = { process: [{ name: 'zombie', pid_file: 'app.pid', sample: '100ms' }] };
    const c = checks((await runAction(healthAction, spec, { baseDir: dir })).result);
    expect(c.zombie).toMatchObject({ status: 'fail', message: 'not running' });
  });
});

describe('health: command', () => {
  it('maps exit codes to statuses and keeps the output; a dry run does not run it', async () => {
    const dir = tempDir();
    const spec = {
      command: [
        { name: 'fine', command: 'echo all good' },
        { name: 'meh', command: 'echo degraded; exit 3', warn_codes: [3] },
        { name: 'plugin', command: ['sh', '-c', 'echo "CRITICAL - queue 900"; exit 2'], nagios: true },
        { name: 'touch', command: 'touch touched' },
      ],
    };
    const c = checks((await runAction(healthAction, spec, { baseDir: dir })).result);
    expect(c.fine).toMatchObject({ status: 'ok', value: 0 });
    expect(c.fine!.message).toMatch(/: all good$/);
    expect(c.meh).toMatchObject({ status: 'warn', value: 3 });
    expect(c.plugin).toMatchObject({ status: 'fail', value: 2 });
    expect(c.plugin!.message).toMatch(/CRITICAL - queue 900/);

    const dry = tempDir();
    const r = (await runAction(healthAction, spec, { baseDir: dry, dryRun: true })).result;
    expect(() => readFileSync(join(dry, 'touched'))).toThrow();
    expect(r.plan).toContain('dry run: would run `touch touched`');
    expect(checks(r).touch!.status).toBe('skipped');
  });
});

describe('health: an application’s own files', () => {
  it('json_file reads a value by path and judges it; a stale file fails', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'stats.json'), JSON.stringify({ cache: { hit_rate: 0.2, size: 10 } }));
    const spec = {
      json_file: [
        { name: 'hits', path: 'stats.json', key: 'cache.hit_rate', warn_below: '30%', fail_below: '10%' },
        { name: 'fresh', path: 'stats.json', key: '/cache/size', max_age: '1h' },
        { name: 'missing', path: 'stats.json', key: 'cache.nope' },
      ],
    };
    let c = checks((await runAction(healthAction, spec, { baseDir: dir })).result);
    expect(c.hits).toMatchObject({ status: 'warn', value: 0.2, thresholds: 'warn < 0.3, fail < 0.1' });
    expect(c.fresh!.status).toBe('ok');
    expect(c.missing).toMatchObject({ status: 'fail', message: 'stats.json: cache.nope is missing' });
    const old = (Date.now() - 2 * 3_600_000) / 1_000;
    utimesSync(join(dir, 'stats.json'), old, old);
    c = checks((await runAction(healthAction, spec, { baseDir: dir })).result);
    expect(c.fresh!.status).toBe('fail');
    expect(c.fresh!.message).toMatch(/not updated for 2h/);
  });

  it('metrics_file computes stats over a window, grouped, each with its bounds', async () => {
    const dir = tempDir();
    const now = Date.UTC(2026, 10, 24, 12);
    const rec = (hoursAgo: number, component: string, duration: number, success: boolean) =>
      JSON.stringify({
        timestamp: new Date(now - hoursAgo * 3_600_000).toISOString(),
        component,
        duration,
        success,
      });
    const lines = [
      rec(1, 'api', 10, true),
      rec(2, 'api', 20, true),
      rec(3, 'api', 60, false),
      rec(4, 'api', 30, true),
      rec(1, 'worker', 50, true),
      rec(2, 'worker', 40, true),
      rec(30, 'worker', 999, false), // older than the window
    ];
    writeFileSync(join(dir, 'performance.jsonl'), `${lines.join('\n')}\n{"timestamp": "2026-11-24T1`); // a line being written
    const r = (
      await runAction(
        healthAction,
        {
          metrics_file: {
            name: 'perf',
            path: 'performance.jsonl',
            since: '24h',
            group_by: 'component',
            measures: [
              { field: 'success', stat: 'rate', warn_below: '90%', fail_below: '50%' },
              { field: 'duration', stat: 'mean', warn_above: 30 },
              { stat: 'count' },
            ],
          },
        },
        { baseDir: dir, clock: new ManualClock(now) },
      )
    ).result;
    const c = checks(r);
    expect(c['perf/api/success.rate']).toMatchObject({ status: 'warn', value: 0.75 });
    expect(c['perf/api/duration.mean']).toMatchObject({ status: 'warn', value: 30 });
    expect(c['perf/api/count']).toMatchObject({ status: 'ok', value: 4 });
    expect(c['perf/worker/success.rate']).toMatchObject({ status: 'ok', value: 1 });
    expect(c['perf/worker/duration.mean']).toMatchObject({ status: 'warn', value: 45 });
    expect(c['perf/worker/count']!.value).toBe(2);
  });
});

describe('health: remedies', () => {
  it('runs on_fail for a failing check, at most max times in the window', async () => {
    const dir = tempDir();
    const port = await closedPort();
    const clock = new ManualClock(Date.UTC(2026, 10, 24));
    const spec = {
      tcp: { name: 'api', port, on_fail: { run: 'echo restarted >> remedies.log', max: '2 in 1h' } },
    };
    const results: ActionResult[] = [];
    for (let i = 0; i < 3; i++) {
      results.push((await runAction(healthAction, spec, { baseDir: dir, clock })).result);
      clock.advance(10 * 60_000);
    }
    expect(readFileSync(join(dir, 'remedies.log'), 'utf8')).toBe('restarted\nrestarted\n');
    expect(checks(results[0]!).api!.remedy).toMatchObject({ ran: true, ok: true });
    expect(results[0]!.changed).toBe(true);
    expect(checks(results[2]!).api!.remedy).toEqual({
      ran: false,
      message: 'remedy not run: it already ran 2 times in 1h (max 2)',
    });
    clock.advance(60 * 60_000); // the window has passed
    await runAction(healthAction, spec, { baseDir: dir, clock });
    expect(readFileSync(join(dir, 'remedies.log'), 'utf8')).toBe('restarted\nrestarted\nrestarted\n');
  });
});
