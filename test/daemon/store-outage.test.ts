/**
 * A daemon on a PostgreSQL store whose server goes away (a private server the test stops and
 * starts: test/support/private-postgres.ts). Host tasks go on every second while it is down;
 * `caretaker status` says since when it is unreachable; after the grace period the
 * store_unavailable incident opens through the channels and closes with a recovery once the
 * spooled history is in; the history then holds every run once, in order. A daemon started
 * while the server is down waits for it (one line per attempt) and comes up when it starts; a
 * wrong password is a configuration error: one line, exit 2, no waiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { findDaemon } from '../../src/server/client.js';
import { PgStore } from '../../src/store/postgres/pg-store.js';
import { BIN, cli } from '../support/cli.js';
import {
  privatePostgresMissing,
  startPrivatePostgres,
  type PrivatePostgres,
} from '../support/private-postgres.js';
import { tempDir, waitUntil } from '../support/tmp.js';

const noPrivatePg = privatePostgresMissing();

interface Daemon {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function spawnDaemon(dir: string, url: string): Daemon {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir,
    env: {
      ...process.env,
      CARETAKER_CONFIG: '',
      CT_STORE_URL: url,
      CARETAKER_STORE_UNREACHABLE_GRACE_MS: '2000',
    },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, exited, stderr: () => stderr };
}

function project(schema: string, more = ''): string {
  const dir = tempDir('ct-outage-');
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    `version: 1
state_dir: ./state
store_env: CT_STORE_URL
store_schema: ${schema}
notify:
  - { type: command, command: "cat >> alerts.jsonl; echo >> alerts.jsonl", on: [store_unavailable, recovery] }
tasks:
  tick:
    action: shell
    schedule: "every 1s"
    with: { command: "echo tick >> ticks.txt" }
  by-hand: { action: shell, with: { command: "echo by hand" } }
${more}`,
  );
  return dir;
}

const ticks = (dir: string) =>
  existsSync(join(dir, 'ticks.txt'))
    ? readFileSync(join(dir, 'ticks.txt'), 'utf8').split('\n').length - 1
    : 0;

const alerts = (dir: string): { event: string; title: string; message: string }[] =>
  existsSync(join(dir, 'alerts.jsonl'))
    ? readFileSync(join(dir, 'alerts.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { event: string; title: string; message: string })
    : [];

async function history(pg: PrivatePostgres, schema: string) {
  const store = await PgStore.open({ url: pg.url, schema });
  try {
    return {
      runs: await store.sql<{
        id: number;
        task: string;
        scheduled_for: number | null;
        status: string;
        trigger: string;
      }>(`SELECT id, task, scheduled_for, status, trigger FROM $S.runs ORDER BY id`),
      incidents: await store.sql<{ key: string; event: string; closed_at: number | null }>(
        `SELECT key, event, closed_at FROM $S.incidents ORDER BY id`,
      ),
    };
  } finally {
    await store.close();
  }
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe.skipIf(noPrivatePg)('daemon whose PostgreSQL store goes away (private server)', () => {
  it('keeps running host tasks, says so, opens and closes the incident, and loses or repeats no run', async () => {
    const pg = await startPrivatePostgres();
    const dir = project('outage');
    const daemon = spawnDaemon(dir, pg.url);
    await waitUntil(() => findDaemon(join(dir, 'state')), 'the daemon to answer', 20_000);
    await waitUntil(() => ticks(dir) >= 2, 'ticks before the outage', 10_000);

    await pg.stop();
    const atStop = ticks(dir);
    await waitUntil(() => daemon.stderr().includes('unreachable ('), 'the unreachable line', 10_000);
    await waitUntil(() => ticks(dir) >= atStop + 4, 'ticks to go on while the store is down', 15_000);
    const status = cli(['status'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^daemon: running/);
    expect(status.stdout).toMatch(
      /store unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z .*history writes? spooled/,
    );
    const byHand = cli(['run-task', 'by-hand', '--wait'], { cwd: dir });
    expect(byHand.code).toBe(0);
    expect(byHand.stdout).toMatch(
      /^run #-\d+ \(not in the history yet: recorded once the store takes writes again\) of by-hand: success/,
    );
    await waitUntil(
      () => alerts(dir).some((a) => a.event === 'store_unavailable'),
      'the incident alert',
      15_000,
    );
    const atStart = ticks(dir);

    await pg.start();
    await waitUntil(() => daemon.stderr().includes('is reachable again'), 'the spool to be written', 20_000);
    await waitUntil(() => alerts(dir).some((a) => a.event === 'recovery'), 'the recovery alert', 15_000);
    await waitUntil(() => ticks(dir) >= atStart + 2, 'ticks after the outage', 10_000);
    expect(cli(['status'], { cwd: dir }).stdout).not.toContain('store unreachable');

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    const err = daemon.stderr();
    expect(count(err, 'unreachable (')).toBe(1);
    expect(err).toContain(`store postgres://postgres:***@127.0.0.1:${pg.port}/postgres unreachable (`);
    expect(err).not.toContain('private-pg-secret');
    expect(err).not.toMatch(/at .*\.js:\d+/);

    const { runs, incidents } = await history(pg, 'outage');
    expect(runs.filter((r) => r.task === 'by-hand')).toMatchObject([
      { status: 'success', trigger: 'manual' },
    ]);
    const tickRuns = runs.filter((r) => r.task === 'tick');
    // Every tick that ran is in the history, once, in the order it ran.
    expect(tickRuns.length).toBe(ticks(dir));
    expect(tickRuns.every((r) => r.status === 'success')).toBe(true);
    const fires = tickRuns.map((r) => r.scheduled_for!);
    expect(new Set(fires).size).toBe(fires.length);
    expect(fires).toEqual([...fires].sort((a, b) => a - b));
    expect(incidents.filter((i) => i.key === 'daemon:store_unavailable')).toEqual([
      { key: 'daemon:store_unavailable', event: 'store_unavailable', closed_at: expect.any(Number) },
    ]);
    const told = alerts(dir);
    expect(told.filter((a) => a.event === 'store_unavailable')).toHaveLength(1);
    expect(told.filter((a) => a.event === 'recovery')).toHaveLength(1);
  }, 120_000);

  it('claims no cluster slot while the store is unreachable; host tasks go on', async () => {
    const pg = await startPrivatePostgres();
    const dir = project(
      'cluster',
      '  shared: { action: shell, schedule: "every 1s", scope: cluster, with: { command: "echo shared >> shared.txt" } }\n',
    );
    const daemon = spawnDaemon(dir, pg.url);
    await waitUntil(() => findDaemon(join(dir, 'state')), 'the daemon to answer', 20_000);
    const lines = (f: string) =>
      existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').split('\n').length - 1 : 0;
    await waitUntil(() => lines('shared.txt') >= 2, 'cluster runs before the outage', 15_000);
    await pg.stop();
    await waitUntil(() => daemon.stderr().includes('unreachable ('), 'the unreachable line', 10_000);
    // Give a run of the cluster task in flight at the stop the time to end.
    const atStop = ticks(dir);
    await waitUntil(() => ticks(dir) >= atStop + 2, 'host ticks in the outage', 15_000);
    const sharedInOutage = lines('shared.txt');
    await waitUntil(() => ticks(dir) >= atStop + 5, 'more host ticks in the outage', 15_000);
    expect(lines('shared.txt')).toBe(sharedInOutage);
    await pg.start();
    await waitUntil(() => lines('shared.txt') > sharedInOutage, 'cluster runs after the outage', 30_000);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('restarted during the outage: what the first daemon spooled is written by the second, once', async () => {
    const pg = await startPrivatePostgres();
    const dir = project('restart');
    const first = spawnDaemon(dir, pg.url);
    await waitUntil(() => findDaemon(join(dir, 'state')), 'the daemon to answer', 20_000);
    await waitUntil(() => ticks(dir) >= 2, 'ticks before the outage', 10_000);
    await pg.stop();
    const atStop = ticks(dir);
    await waitUntil(() => ticks(dir) >= atStop + 3, 'ticks while the store is down', 15_000);
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toMatch(
      /history writes? wait in .*store-spool\.sqlite and will be written when the store is reachable at the next start/,
    );
    const ranBefore = ticks(dir);

    const second = spawnDaemon(dir, pg.url);
    await waitUntil(() => second.stderr().includes('retrying in'), 'the second daemon to wait', 15_000);
    await pg.start();
    await waitUntil(() => findDaemon(join(dir, 'state')), 'the second daemon to come up', 30_000);
    expect(second.stderr()).toMatch(/writing \d+ history writes spooled before this start/);
    await waitUntil(() => ticks(dir) >= ranBefore + 2, 'ticks after the restart', 10_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });

    const tickRuns = (await history(pg, 'restart')).runs.filter((r) => r.task === 'tick');
    // Every tick that ran is recorded as a success once (a run still queued at the stop may be
    // recorded too, as queued or interrupted: it never ran).
    expect(tickRuns.filter((r) => r.status === 'success')).toHaveLength(ticks(dir));
    const fires = tickRuns.filter((r) => r.trigger !== 'retry').map((r) => r.scheduled_for!);
    expect(new Set(fires).size).toBe(fires.length);
    expect(fires).toEqual([...fires].sort((a, b) => a - b));
  }, 120_000);

  it('started while the server is down, waits for it with one line per attempt and comes up when it starts', async () => {
    const pg = await startPrivatePostgres();
    await pg.stop();
    const dir = project('late');
    const daemon = spawnDaemon(dir, pg.url);
    await waitUntil(() => count(daemon.stderr(), 'retrying in') >= 2, 'two attempts', 15_000);
    expect(daemon.stderr()).toContain(
      `caretaker: store postgres://postgres:***@127.0.0.1:${pg.port}/postgres unreachable (ECONNREFUSED); retrying in 1 s\n`,
    );
    expect(daemon.stderr()).toContain('; retrying in 2 s\n');
    expect(daemon.child.exitCode).toBeNull();
    expect(await findDaemon(join(dir, 'state'))).toBeFalsy();
    await pg.start();
    await waitUntil(() => findDaemon(join(dir, 'state')), 'the daemon to come up', 30_000);
    await waitUntil(() => ticks(dir) >= 1, 'a tick', 10_000);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toEqual({ code: 0, signal: null });
    expect(daemon.stderr()).not.toContain('private-pg-secret');
    expect((await history(pg, 'late')).runs.length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('a wrong password: one line, exit 2, no waiting', async () => {
    const pg = await startPrivatePostgres();
    const dir = project('wrongpw');
    const daemon = spawnDaemon(dir, pg.wrongPasswordUrl);
    const { code } = await daemon.exited;
    expect(code).toBe(2);
    const lines = daemon.stderr().trim().split('\n');
    expect(lines.filter((l) => l.includes('password authentication failed'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('password authentication failed'))).toBe(
      `caretaker: cannot open the PostgreSQL store postgres://postgres:***@127.0.0.1:${pg.port}/postgres (schema wrongpw): password authentication failed for user "postgres"`,
    );
    expect(daemon.stderr()).not.toContain('retrying');
    expect(daemon.stderr()).not.toContain('not-the-password');
  }, 60_000);
});
