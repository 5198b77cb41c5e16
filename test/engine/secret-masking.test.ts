/**
 * A secret named in the configuration (`url_env`, `secret_env`, any `*_env`) that shows up in a
 * task's output, result or error is masked ("***") before anything is stored: the SQLite file's
 * bytes, `history --json` and `report` never show its value — for a run through the CLI alone
 * and through a daemon, and for every other kind of row the masking store writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLogger } from '../../src/engine/logger.js';
import { maskingStore } from '../../src/engine/masking-store.js';
import { findDaemon } from '../../src/server/client.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir, waitUntil } from '../support/tmp.js';
import { queued, T0 } from '../store/conformance/harness.js';

const URL_VALUE = 'https://hooks.example.test/t0k3n-8f3a21';
const SECRET_VALUE = 'sh4red-s3cret-91c7';
const ENV = { CT_TEST_HOOK_URL: URL_VALUE, CT_TEST_HOOK_SECRET: SECRET_VALUE };

const CONFIG = `version: 1
notify:
  - { type: webhook, url_env: CT_TEST_HOOK_URL, secret_env: CT_TEST_HOOK_SECRET, on: [recovery] }
tasks:
  leak:
    action: shell
    with: { command: 'echo "url=$CT_TEST_HOOK_URL"; echo "secret=$CT_TEST_HOOK_SECRET" >&2; exit 3' }
`;

/** Every byte under the state dir (the database, its WAL, the logs) as text. */
function stateBytes(dir: string): string {
  const root = join(dir, '.caretaker');
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name)).toString('latin1'))
    .join('\n');
}

function expectNoSecret(text: string, where: string): void {
  expect(text.includes(URL_VALUE), `${where} holds the url_env value`).toBe(false);
  expect(text.includes(SECRET_VALUE), `${where} holds the secret_env value`).toBe(false);
}

function expectMaskedEverywhere(dir: string): void {
  const history = cli(['history', '--json'], { cwd: dir, env: ENV });
  expect(history.code).toBe(0);
  const runs = JSON.parse(history.stdout) as { outputTail: string }[];
  expect(runs[0]!.outputTail).toBe('url=***\nsecret=***\n');
  expectNoSecret(history.stdout, 'history --json');
  const report = cli(['report', '--format', 'json'], { cwd: dir, env: ENV });
  expect(report.code).toBe(0);
  expectNoSecret(report.stdout, 'report');
  expectNoSecret(stateBytes(dir), 'the state dir');
}

async function startDaemon(dir: string): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir,
    env: { ...process.env, CARETAKER_CONFIG: '', ...ENV },
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.on('exit', r));
  onTestFinished(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  await waitUntil(() => findDaemon(join(dir, '.caretaker')), 'the daemon to answer', 15_000);
  return { child, exited };
}

describe('secrets never reach the history', () => {
  it('run-task --wait without a daemon: output masked in the database, history --json and report', () => {
    const dir = tempDir('ct-secret-');
    writeFileSync(join(dir, 'caretaker.yaml'), CONFIG);
    const r = cli(['run-task', 'leak', '--wait'], { cwd: dir, env: ENV });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('url=***');
    expectNoSecret(r.stdout + r.stderr, 'run-task');
    expectMaskedEverywhere(dir);
  });

  it('run-task --wait through a daemon: the same', async () => {
    const dir = tempDir('ct-secret-');
    writeFileSync(join(dir, 'caretaker.yaml'), CONFIG);
    const d = await startDaemon(dir);
    const r = cli(['run-task', 'leak', '--wait'], { cwd: dir, env: ENV });
    expect(r.code).toBe(1);
    expectNoSecret(r.stdout + r.stderr, 'run-task');
    d.child.kill('SIGTERM');
    await d.exited;
    expectMaskedEverywhere(dir);
  });

  it('every string written by any role is masked: results deep, reasons, samples, incidents, deliveries, pings, claims', async () => {
    const dir = tempDir('ct-secret-');
    const file = join(dir, 'h.db');
    const store = maskingStore(new SqliteStore(file), () => [URL_VALUE, SECRET_VALUE]);
    const run = await store.insertRun(queued({ reason: `queued for ${URL_VALUE}` }));
    const [burst] = await store.insertRuns([queued({ reason: `burst with ${SECRET_VALUE}` })]);
    expect((await store.getRun(burst!.id))?.reason).toBe('burst with ***');
    const done = await store.finishRun(run.id, {
      status: 'failed',
      finishedAt: T0 + 1000,
      outputTail: `out ${SECRET_VALUE}`,
      reason: `could not reach ${URL_VALUE}`,
      result: {
        ok: false,
        summary: `failed with ${SECRET_VALUE}`,
        warnings: [`w ${SECRET_VALUE}`],
        details: { nested: [{ deep: `x${URL_VALUE}y` }], rollback: { error: SECRET_VALUE } },
      },
    });
    expect(done.reason).toBe('could not reach ***');
    expect(done.result!.details).toEqual({ nested: [{ deep: 'x***y' }], rollback: { error: '***' } });
    await store.recordSamples('job', T0, [{ key: `probe:${SECRET_VALUE}`, value: 1 }]);
    const incident = await store.saveIncident({
      id: 0,
      key: 'task:job',
      subjectKind: 'task',
      subjectId: 'job',
      event: 'failure',
      level: 'fail',
      openedAt: T0,
      lastSeenAt: T0,
      lastNotifiedAt: null,
      occurrences: 1,
      notifications: 0,
      message: `job failed: ${URL_VALUE}`,
      oneShot: false,
      closedAt: null,
    });
    const delivery = await store.insertDelivery({
      incidentId: incident.id,
      channel: 'hook',
      event: 'failure',
      status: 'sending',
      attempts: 0,
      createdAt: T0,
      finishedAt: null,
      error: null,
      payload: JSON.stringify({ text: SECRET_VALUE }),
    });
    await store.updateDelivery(delivery, {
      status: 'failed',
      attempts: 1,
      finishedAt: T0,
      error: `POST ${URL_VALUE} refused`,
    });
    await store.recordPing({ name: 'sync', at: T0, ok: false, source: 'cli', message: SECRET_VALUE });
    const claim = { task: 'job', host: 'h1', instance: 'i-a', now: T0, leaseMs: 1 };
    await store.claimSlot({ ...claim, slot: T0 });
    await store.releaseSlot('job', T0, 'i-a', { state: 'skipped', reason: `cannot reach ${URL_VALUE}` });
    await store.claimSlot({ ...claim, slot: T0 + 1 });
    const taken = await store.takeOver({
      ...claim,
      slot: T0 + 1,
      fromInstance: 'i-a',
      instance: 'i-b',
      now: T0 + 10,
      reason: `holder lost: ${SECRET_VALUE}`,
    });
    expect(taken?.reason).toBe('holder lost: ***');
    expect((await store.getClaim('job', T0))?.reason).toBe('cannot reach ***');
    await store.close();
    expectNoSecret(readFileSync(file).toString('latin1'), 'the database');
    const reread = new SqliteStore(file, { readonly: true });
    onTestFinished(() => reread.close());
    expect((await reread.listIncidents({ limit: 5 }))[0]!.message).toBe('job failed: ***');
    expect((await reread.sampleKeys('job')).map((k) => k.key)).toEqual(['probe:***']);
  });

  it('the log file masks them too, raw and inside JSON strings', async () => {
    const dir = tempDir('ct-secret-');
    const quoted = 'pa"ss\\w0rd-77';
    const logger = createLogger({
      stateDir: dir,
      level: 'info',
      console: false,
      secrets: () => [URL_VALUE, quoted],
    });
    logger.error(
      { err: new Error(`could not reach ${URL_VALUE}`), tried: quoted },
      `login ${quoted} refused`,
    );
    await new Promise<void>((r) => logger.flush(() => r()));
    const log = readFileSync(join(dir, 'logs', 'caretaker.log'), 'utf8');
    expect(log).toContain('could not reach ***');
    expect(log).toContain('login *** refused');
    expect(log).not.toContain(URL_VALUE);
    expect(log).not.toContain(JSON.stringify(quoted).slice(1, -1));
  });
});
