/** rolling-restart with real child HTTP server processes, and on a manual clock for its waits. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { rollingRestartAction } from '../../src/actions/rolling-restart.js';
import { ManualClock } from '../../src/engine/clock.js';
import { optionsError, runAction } from '../support/run-action.js';
import { drive } from '../support/clock-driver.js';
import { processAlive, tempDir, waitUntil } from '../support/tmp.js';

const SERVER = resolve(import.meta.dirname, '..', 'fixtures', 'rolling-restart', 'http-instance.mjs');

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}

interface Instance {
  name: string;
  port: number;
  pidFile: string;
  url: string;
}

const pidOf = (i: Instance) => (existsSync(i.pidFile) ? Number(readFileSync(i.pidFile, 'utf8')) : undefined);

async function healthy(i: Instance): Promise<boolean> {
  try {
    return (await fetch(i.url)).status === 200;
  } catch {
    return false;
  }
}

/** Starts an instance as its own process (as a service manager would) and waits until it serves. */
async function launch(dir: string, name: string, flags: string[] = []): Promise<Instance> {
  const port = await freePort();
  const i = { name, port, pidFile: join(dir, `${name}.pid`), url: `http://127.0.0.1:${port}/health` };
  const child = spawn(process.execPath, [SERVER, String(port), i.pidFile, ...flags], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  await waitUntil(() => healthy(i), `${name} to serve`);
  return i;
}

/** Kills whatever the pid files name at the end of the test (the restarted processes included). */
function cleanUp(instances: Instance[], extra: number[] = []): void {
  onTestFinished(() => {
    for (const pid of [...instances.map(pidOf), ...extra]) {
      if (pid !== undefined && processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
}

function config(i: Instance, startFlags = '') {
  return {
    name: i.name,
    stop: `pid=$(cat ${i.pidFile}) && kill $pid && while kill -0 $pid 2>/dev/null; do sleep 0.05; done`,
    start: `nohup ${process.execPath} ${SERVER} ${i.port} ${i.pidFile} ${startFlags} >/dev/null 2>&1 &`,
    health_url: i.url,
    pid_file: i.pidFile,
  };
}

describe('rolling-restart options', () => {
  it('needs one health check per instance, unique names, and pid files for only_if', () => {
    const base = { name: 'a', stop: 'true', start: 'true' };
    expect(optionsError(rollingRestartAction, { instances: [base] })).toBe(
      'instances.0: instance a needs exactly one of health_url and health_command',
    );
    const ok = { ...base, health_command: 'true' };
    expect(optionsError(rollingRestartAction, { instances: [ok, ok] })).toBe(
      'instances.1.name: instance name a is used twice',
    );
    expect(optionsError(rollingRestartAction, { instances: [ok], only_if: { rss_over: '1GB' } })).toBe(
      'instances.0: instance a needs pid_file: only_if.rss_over measures its process',
    );
  });
});

describe('rolling-restart with three real HTTP server processes', () => {
  it('stops the rollout at the instance that does not come back healthy and leaves the rest untouched', async () => {
    const dir = tempDir();
    const [a, b, c] = [await launch(dir, 'a'), await launch(dir, 'b'), await launch(dir, 'c')] as Instance[];
    const before = { a: pidOf(a!)!, b: pidOf(b!)!, c: pidOf(c!)! };
    cleanUp([a!, b!, c!], Object.values(before));
    const { result, output } = await runAction(
      rollingRestartAction,
      {
        // b's new version never becomes ready (HTTP 503), as after a bad deploy.
        instances: [config(a!), config(b!, '--unhealthy'), config(c!)],
        settle: '100ms',
        health_timeout: '1500ms',
        health_interval: '100ms',
      },
      { baseDir: dir },
    );
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(
      /^rollout stopped: b not healthy within 1\.5s \(last probe: HTTP 503\); restarted: a; left untouched: c$/,
    );
    expect(result.details).toMatchObject({
      stoppedAt: 'b',
      instances: [
        { name: 'a', status: 'restarted' },
        { name: 'b', status: 'failed' },
        { name: 'c', status: 'untouched' },
      ],
    });
    // a: a new process, serving.
    expect(pidOf(a!)).not.toBe(before.a);
    expect(processAlive(before.a)).toBe(false);
    expect(await healthy(a!)).toBe(true);
    // b: stopped, and its replacement is up but unhealthy.
    expect(processAlive(before.b)).toBe(false);
    expect(await healthy(b!)).toBe(false);
    // c: the very same process, still serving.
    expect(pidOf(c!)).toBe(before.c);
    expect(await healthy(c!)).toBe(true);
    expect(output).toContain('a: healthy after');
    expect(output).not.toContain('c: stopping');
  });

  it('with only_if.rss_over recycles only the instance over the limit; the dry run shows that plan', async () => {
    const dir = tempDir();
    const a = await launch(dir, 'a', ['--hog', '120']);
    const b = await launch(dir, 'b');
    const c = await launch(dir, 'c');
    const before = [pidOf(a)!, pidOf(b)!, pidOf(c)!];
    cleanUp([a, b, c], before);
    const options = {
      instances: [config(a), config(b), config(c)],
      only_if: { rss_over: '100MB' },
      settle: '0s',
      health_timeout: '10s',
      health_interval: '100ms',
    };
    const dry = await runAction(rollingRestartAction, options, { baseDir: dir, dryRun: true });
    expect(dry.result.summary).toBe('would recycle 1 of 3 instances one at a time: a');
    expect(dry.result.plan).toEqual([
      expect.stringMatching(
        /^a \(RSS 1\d\dMB is over 100MB\): stop `pid=.*`, start `nohup .*`, wait up to 10s for http:\/\/127\.0\.0\.1:\d+\/health$/,
      ),
      expect.stringMatching(/^b: left alone \(RSS \d+MB is under 100MB\)$/),
      expect.stringMatching(/^c: left alone \(RSS \d+MB is under 100MB\)$/),
    ]);
    expect([pidOf(a), pidOf(b), pidOf(c)]).toEqual(before);

    const { result } = await runAction(rollingRestartAction, options, { baseDir: dir });
    expect(result.ok, result.summary).toBe(true);
    expect(result.summary).toBe('restarted 1 of 3 instances one at a time: a; left alone: b, c');
    expect(pidOf(a)).not.toBe(before[0]);
    expect([pidOf(b), pidOf(c)]).toEqual(before.slice(1));
    expect(await Promise.all([healthy(a), healthy(b), healthy(c)])).toEqual([true, true, true]);
  });
});

describe('rolling-restart timing on the run clock', () => {
  it('settles between instances and gives up on health after health_timeout, without real waiting', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const dir = tempDir();
    const run = runAction(
      rollingRestartAction,
      {
        instances: [
          { name: 'one', stop: 'true', start: 'true', health_command: 'true', settle: '30s' },
          { name: 'two', stop: 'true', start: 'true', health_command: 'exit 1' },
          { name: 'three', stop: 'true', start: 'true', health_command: 'true' },
        ],
        health_timeout: '20s',
        health_interval: '5s',
      },
      { baseDir: dir, clock },
    );
    const { value, waits } = await drive(clock, run); // the commands are real processes
    const { result } = value;
    expect(result.summary).toBe(
      'rollout stopped: two not healthy within 20s (last probe: health command exit 1); restarted: one; left untouched: three',
    );
    // one's settle, then two's probes 5 s apart until 20 s had passed.
    expect(waits).toEqual([30_000, 5_000, 5_000, 5_000, 5_000]);
  });
});
