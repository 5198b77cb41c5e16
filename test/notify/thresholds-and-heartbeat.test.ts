/**
 * Alerts an action raises itself (scan-logs' thresholds: one incident per key, closed when no
 * longer reported), too many starts, a test alert through every channel, and the external
 * heartbeat URL pinged at every beat.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineAction, type ActionAlert } from '../../src/actions/types.js';
import { createCaretaker } from '../../src/create-caretaker.js';
import { ManualClock } from '../../src/engine/clock.js';
import { Heartbeat, isStale, readHeartbeat } from '../../src/engine/heartbeat.js';
import { pingHeartbeatUrl } from '../../src/notify/heartbeat-ping.js';
import type { AlertEvent } from '../../src/notify/types.js';
import { HOUR, MIN, T0 } from '../support/engine-harness.js';
import { httpServer, type Loopback } from '../support/loopback-servers.js';
import { tempDir, waitUntil } from '../support/tmp.js';

function events(hook: Loopback): string[] {
  return hook.received.map((r) => {
    const e = JSON.parse(r.body) as AlertEvent;
    return `${e.event}: ${e.message}`;
  });
}

describe('threshold alerts from an action', () => {
  it('opens one incident per reported key and closes it when the key is no longer reported', async () => {
    const hook = await httpServer({ '/hook': (_q, res) => res.writeHead(200).end() });
    let report: ActionAlert[] = [];
    const scan = defineAction({
      name: 'fake-scan',
      description: 'reports what the test sets',
      schema: z.strictObject({}),
      run: async () => ({ ok: true, summary: `${report.length} thresholds`, alerts: report }),
    });
    const clock = new ManualClock(T0);
    const ct = createCaretaker({
      configText: `version: 1\nstate_dir: state\nnotify:\n  - { type: webhook, url: "${hook.url}/hook", retries: 0, on: [threshold, recovery, anomaly] }\ntasks:\n  scan: { action: fake-scan, anomalies: { too_often: "2 in 1h" } }\n`,
      baseDir: tempDir(),
      clock,
      actions: [scan],
      host: 'test-host',
    });
    await ct.start();
    const run = async () => {
      await ct.runNow('scan');
      await ct.alertsIdle();
      clock.advance(MIN);
    };
    report = [{ event: 'threshold', key: 'errors', message: '52 errors in 5m (threshold 50)' }];
    await run();
    await run(); // still over: deduplicated
    report = [
      { event: 'threshold', key: 'errors', message: '60 errors in 5m (threshold 50)' },
      { event: 'threshold', key: 'timeouts', message: '12 timeouts in 5m (threshold 10)' },
    ];
    await run(); // the third start within the hour is also "too often"
    report = [{ event: 'threshold', key: 'timeouts', message: '11 timeouts in 5m (threshold 10)' }];
    await run();
    expect(events(hook)).toEqual([
      'threshold: 52 errors in 5m (threshold 50)',
      'anomaly: scan: 3 runs started within 1h (limit 2)',
      'threshold: 12 timeouts in 5m (threshold 10)',
      'recovery: back under the threshold',
    ]);
    const open = await ct.incidents({ open: true });
    expect(open.map((i) => i.key).sort()).toEqual(['anomaly:scan:too_often', 'threshold:scan:timeouts']);

    const results = await ct.testChannels();
    expect(results).toEqual([{ channel: 'webhook', ok: true, attempts: 1, error: null }]);
    expect(JSON.parse(hook.received.at(-1)!.body)).toMatchObject({ event: 'test', severity: 'info' });
    await ct.stop(0);
  });
});

describe('heartbeat', () => {
  it('writes state_dir/heartbeat.json at every beat and pings the external URL', async () => {
    const monitor = await httpServer({ '/ping/abc': (_q, res) => res.writeHead(200).end('OK') });
    const dir = tempDir();
    const clock = new ManualClock(T0);
    const logger = pino({ level: 'silent' });
    const hb = { everyMs: MIN, staleAfterMs: 3 * MIN, url: `${monitor.url}/ping/abc`, urlEnv: null };
    const beat = new Heartbeat({
      stateDir: dir,
      clock,
      logger,
      host: 'web-1',
      everyMs: hb.everyMs,
      staleAfterMs: hb.staleAfterMs,
      lastPassAt: () => clock.now() - 1_000,
      onBeat: async () => {
        if (await pingHeartbeatUrl(hb, logger)) answered++;
      },
    });
    // Each beat's ping is a real HTTP request: wait until its answer is read, not for a fixed
    // time (a beat skips its ping while the last one is still in flight, as it should).
    let answered = 0;
    beat.start();
    await waitUntil(() => answered === 1, 'the first ping');
    clock.advance(MIN);
    await waitUntil(() => answered === 2, 'the second ping');
    clock.advance(MIN);
    await beat.stop();
    expect(monitor.received.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /ping/abc',
      'GET /ping/abc',
      'GET /ping/abc',
    ]);
    const written = readHeartbeat(dir)!;
    expect(written).toMatchObject({ at: T0 + 2 * MIN, host: 'web-1', lastPassAt: T0 + 2 * MIN - 1_000 });
    expect(JSON.parse(readFileSync(join(dir, 'heartbeat.json'), 'utf8')).everyMs).toBe(MIN);
    expect(isStale(written, T0 + 5 * MIN)).toBe(false);
    expect(isStale(written, T0 + 5 * MIN + 1)).toBe(true);
    expect(clock.pending()).toEqual([]); // stopped: no timer left
  });

  it('keeps beating when the heartbeat URL is down', async () => {
    const dir = tempDir();
    const clock = new ManualClock(T0);
    const logger = pino({ level: 'silent' });
    const hb = { everyMs: HOUR, staleAfterMs: 3 * HOUR, url: 'http://127.0.0.1:9/down', urlEnv: null };
    expect(await pingHeartbeatUrl(hb, logger)).toBe(false);
    const beat = new Heartbeat({
      stateDir: dir,
      clock,
      logger,
      host: 'h',
      everyMs: HOUR,
      staleAfterMs: 3 * HOUR,
      lastPassAt: () => null,
      onBeat: async () => void (await pingHeartbeatUrl(hb, logger)),
    });
    beat.start();
    clock.advance(HOUR);
    await beat.stop();
    expect(readHeartbeat(dir)!.at).toBe(T0 + HOUR);
  });
});
