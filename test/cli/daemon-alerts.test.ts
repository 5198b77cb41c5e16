/**
 * A real daemon: dead-man pings over its HTTP API (token required) and its control socket, and
 * a heartbeat that `caretaker status` reads — and calls stale when it stops.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { HeartbeatRecord } from '../../src/engine/heartbeat.js';
import { cli } from '../support/cli.js';
import { closedPort } from '../support/loopback-servers.js';
import { tempDir } from '../support/tmp.js';

describe('the daemon watches and is watched', () => {
  it('takes pings over HTTP and the socket, writes a heartbeat, and status flags a stale one', async () => {
    const dir = tempDir();
    const port = await closedPort();
    const env = { CARETAKER_TOKEN: 'test-token-123' };
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1
server: { listen: "127.0.0.1:${port}" }
heartbeat: { every: 1h }
watch:
  nightly: { expect: every 1d, grace: 1h }
tasks:
  noop: { action: shell, with: { command: "true" } }
`,
    );
    const started = cli(['start', '--daemon'], { cwd: dir, env });
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    onTestFinished(() => void cli(['stop'], { cwd: dir, env }));

    const api = `http://127.0.0.1:${port}/v1/pings`;
    const auth = { authorization: `Bearer ${env.CARETAKER_TOKEN}`, 'content-type': 'application/json' };
    const denied = await fetch(`${api}/nightly`, { method: 'POST' });
    expect(denied.status).toBe(401);
    const ok = await fetch(`${api}/nightly`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ message: 'dump done' }),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ name: 'nightly', ok: true, source: 'api', message: 'dump done' });
    const unknown = await fetch(`${api}/nope`, {
      method: 'POST',
      headers: { authorization: auth.authorization },
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/^unknown watch "nope"/);
    const failed = await fetch(`${api}/nightly/fail`, {
      method: 'POST',
      headers: { authorization: auth.authorization },
    });
    expect(await failed.json()).toMatchObject({ ok: false });
    expect(cli(['ping', 'nightly'], { cwd: dir, env }).code).toBe(0); // through the socket

    // Reads need a token on TCP too (only /healthz is open).
    expect((await fetch(`http://127.0.0.1:${port}/v1/watches`)).status).toBe(401);
    const watches = (await (
      await fetch(`http://127.0.0.1:${port}/v1/watches`, { headers: { authorization: auth.authorization } })
    ).json()) as {
      name: string;
      state: string;
      lastPing: { source: string };
    }[];
    expect(watches).toMatchObject([{ name: 'nightly', state: 'up', lastPing: { source: 'api' } }]);

    let status = cli(['status'], { cwd: dir, env });
    expect(status.stdout).toMatch(/^heartbeat: (now|[\d.]+s ago)$/m);
    // The failing ping opened an incident; the good one after it closed it again.
    expect(status.stdout).not.toMatch(/open incidents/);

    // The wall clock stepped a day forward since the last beat: the beat is recent all the same
    // (its age is judged on the monotonic clock), the scheduler is not hung.
    const file = join(dir, '.caretaker', 'heartbeat.json');
    const hb = JSON.parse(readFileSync(file, 'utf8')) as HeartbeatRecord;
    expect(typeof hb.monoAt).toBe('number');
    writeFileSync(file, JSON.stringify({ ...hb, at: hb.at - 24 * 3_600_000 }));
    status = cli(['status', '--json'], { cwd: dir, env });
    expect(JSON.parse(status.stdout).heartbeat).toMatchObject({ stale: false });
    status = cli(['status'], { cwd: dir, env });
    expect(status.stdout).toMatch(/^heartbeat: (now|[\d.]+s ago)$/m);

    // A daemon whose heartbeat stopped (a hung event loop, a stuck disk) is flagged.
    writeFileSync(
      file,
      JSON.stringify({ ...hb, at: hb.at - 4 * 3_600_000, monoAt: hb.monoAt! - 4 * 3_600_000 }),
    );
    status = cli(['status', '--json'], { cwd: dir, env });
    expect(JSON.parse(status.stdout).heartbeat).toMatchObject({ stale: true, everyMs: 3_600_000 });
    status = cli(['status'], { cwd: dir, env });
    expect(status.stdout).toMatch(
      /^heartbeat: STALE — last written 4h( \d+s)? ago \(expected every 1h\); the scheduler may be hung$/m,
    );
  });
});
