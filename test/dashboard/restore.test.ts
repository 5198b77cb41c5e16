/**
 * Restoring a rollback point over HTTP: the API route (POST /v1/rollbacks/:id/restore) and the
 * run page's Restore form, through fastify inject on the real TCP app with real tokens, a real
 * SQLite store, a real shell task that edits a real file, and the real rollback points on disk.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Caretaker } from '../../src/caretaker.js';
import { createCaretaker, ManualClock } from '../../src/index.js';
import { buildApi } from '../../src/server/api.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/tmp.js';

const HOST = '127.0.0.1:8787';
const ORIGIN = `http://${HOST}`;

const open: Caretaker[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

/** A task whose run overwrites conf/app.yaml, with a rollback point of conf/ taken before it. */
async function setup() {
  const dir = tempDir('ct-restore-');
  mkdirSync(join(dir, 'conf'));
  const file = join(dir, 'conf', 'app.yaml');
  writeFileSync(file, 'port: 8080\n');
  const caretaker = createCaretaker({
    configText: `version: 1
state_dir: state
tasks:
  push-config:
    action: shell
    rollback: { paths: [conf] }
    with: { command: "echo 'port: 9090' > conf/app.yaml" }
  other: { action: shell, with: { command: "true" } }
`,
    baseDir: dir,
    clock: new ManualClock(Date.now()),
    host: 'test-host',
  });
  open.push(caretaker);
  const access = await caretaker.access();
  const token = async (name: string, role: 'viewer' | 'operator', tasks?: string[]) =>
    (await access.createToken({ name, role, tasks })).token;
  const tokens = {
    viewer: await token('eve-viewer', 'viewer'),
    operator: await token('olga-operator', 'operator'),
    limited: await token('other-only', 'operator', ['other']),
  };
  const run = await caretaker.runNow('push-config');
  expect(run.status).toBe('success');
  expect(readFileSync(file, 'utf8')).toBe('port: 9090\n');
  const [point] = await caretaker.listRollbacks({ task: 'push-config' });
  expect(point).toMatchObject({ task: 'push-config', runId: run.id });
  const app = buildApi(caretaker, { listener: 'tcp' });
  return { caretaker, access, app, tokens, file, dir, run, point: point!.id };
}

function restore(app: FastifyInstance, point: string, token: string, body: unknown) {
  return app.inject({
    method: 'POST',
    url: `/v1/rollbacks/${point}/restore`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
}

async function session(app: FastifyInstance, token: string) {
  const r = await app.inject({
    method: 'POST',
    url: '/login',
    headers: { host: HOST, origin: ORIGIN, 'content-type': 'application/json' },
    payload: JSON.stringify({ token }),
  });
  const cookie = /^ct_session=([^;]+)/.exec(String(r.headers['set-cookie'] ?? ''))?.[1];
  expect(cookie, r.body).toBeDefined();
  const { csrf } = JSON.parse(r.body) as { csrf: string };
  const get = (url: string) =>
    app.inject({ method: 'GET', url, headers: { host: HOST, cookie: `ct_session=${cookie}` } });
  const form = (url: string, fields: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url,
      headers: {
        host: HOST,
        origin: ORIGIN,
        cookie: `ct_session=${cookie}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams({ csrf, ...fields }).toString(),
    });
  return { get, form, csrf };
}

describe('POST /v1/rollbacks/:id/restore', () => {
  it('puts the file content of the point back on disk, records the rollback run and one audit row with the reason', async () => {
    const s = await setup();
    const r = await restore(s.app, s.point, s.tokens.operator, { reason: 'port 9090 broke the LB' });
    expect(r.statusCode, r.body).toBe(200);
    expect(readFileSync(s.file, 'utf8')).toBe('port: 8080\n');
    const body = JSON.parse(r.body) as {
      point: string;
      dryRun: boolean;
      restored: string[];
      preRollbackPoint: string;
      run: { id: number; task: string; trigger: string; status: string; reason: string };
    };
    expect(body).toMatchObject({ point: s.point, dryRun: false, restored: [s.file] });
    expect(body.run).toMatchObject({
      task: 'push-config',
      trigger: 'rollback',
      status: 'success',
      reason: `rollback to ${s.point}: port 9090 broke the LB`,
    });
    expect(await s.caretaker.getRun(body.run.id)).toMatchObject({ trigger: 'rollback' });
    const rows = (await s.access.audit({ limit: 100 })).filter((a) => a.action === 'rollback');
    expect(rows).toEqual([
      expect.objectContaining({
        actor: 'olga-operator',
        target: 'push-config',
        outcome: 'ok',
        detail: `${s.point}, run #${body.run.id} of push-config; reason: port 9090 broke the LB`,
      }),
    ]);
    // The pre-rollback point undoes it ("rb-1" and "1" name the same point).
    const undo = await restore(s.app, body.preRollbackPoint.slice(3), s.tokens.operator, { reason: 'undo' });
    expect(undo.statusCode, undo.body).toBe(200);
    expect(readFileSync(s.file, 'utf8')).toBe('port: 9090\n');
  });

  it('a dry run changes nothing and writes no audit row', async () => {
    const s = await setup();
    const r = await restore(s.app, s.point, s.tokens.operator, { reason: 'look first', dryRun: true });
    expect(r.statusCode, r.body).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ dryRun: true, run: null, restored: [s.file] });
    expect(readFileSync(s.file, 'utf8')).toBe('port: 9090\n');
    expect((await s.access.audit({ limit: 100 })).filter((a) => a.action === 'rollback')).toEqual([]);
  });

  it('without a reason (or a blank one) it is 400 with one clear line, and nothing is restored', async () => {
    const s = await setup();
    for (const body of [{}, { reason: '   ' }, { reason: 42 }]) {
      const r = await restore(s.app, s.point, s.tokens.operator, body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      const answer = JSON.parse(r.body) as { error: string; exitCode: number };
      expect(answer.exitCode).toBe(2);
      expect(answer.error).toMatch(/^reason: /);
      expect(answer.error).not.toContain('\n');
    }
    const bad = await restore(s.app, s.point, s.tokens.operator, { reason: 'x', dryRun: 'yes' });
    expect(JSON.parse(bad.body)).toMatchObject({ error: 'dryRun: expected true or false, got "yes"' });
    const unknown = await restore(s.app, 'rb-99', s.tokens.operator, { reason: 'x' });
    expect(unknown.statusCode).toBe(400);
    expect(JSON.parse(unknown.body).error).toContain('no rollback point rb-99');
    expect(readFileSync(s.file, 'utf8')).toBe('port: 9090\n');
    const failed = (await s.access.audit({ limit: 100 })).filter((a) => a.action === 'rollback');
    expect(failed.length).toBe(5);
    expect(failed.every((a) => a.outcome === 'failed')).toBe(true);
  });

  it('a mistyped field (dryrun for dryRun) is 400 naming the field, and nothing is restored', async () => {
    const s = await setup();
    const r = await restore(s.app, s.point, s.tokens.operator, { reason: 'look first', dryrun: true });
    expect(r.statusCode, r.body).toBe(400);
    const answer = JSON.parse(r.body) as { error: string; exitCode: number };
    expect(answer).toMatchObject({ exitCode: 2 });
    expect(answer.error).toBe(
      'dryrun: not a field of this request; expected reason, dryRun (did you mean "dryRun"?)',
    );
    expect(readFileSync(s.file, 'utf8')).toBe('port: 9090\n');
    expect((await s.caretaker.listRollbacks({ task: 'push-config' })).length).toBe(1);
  });

  it('POST /v1/tasks/:id/runs with a mistyped field (dry_run) is 400 and starts no run', async () => {
    const s = await setup();
    const before = (await s.caretaker.history({ task: 'push-config' })).length;
    const r = await s.app.inject({
      method: 'POST',
      url: '/v1/tasks/push-config/runs',
      headers: { authorization: `Bearer ${s.tokens.operator}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ dry_run: true }),
    });
    expect(r.statusCode, r.body).toBe(400);
    expect(JSON.parse(r.body).error).toMatch(
      /^dry_run: not a field of this request; .*did you mean "dryRun"/,
    );
    expect((await s.caretaker.history({ task: 'push-config' })).length).toBe(before);
  });

  it('while the point’s task is running it is refused 409 with the run named, and nothing is restored', async () => {
    const s = await setup();
    // A run of the task in progress on this host, as the daemon's would be (the same store file).
    const other = new SqliteStore(join(s.dir, 'state', 'caretaker.db'));
    const busy = await other.insertRun({
      task: 'push-config',
      host: 'test-host',
      trigger: 'manual',
      scheduledFor: null,
      notBefore: Date.now(),
      queuedAt: Date.now(),
      status: 'running',
      startedAt: Date.now(),
      attempt: 1,
      dryRun: false,
      pid: process.pid,
    });
    await other.close();
    const r = await restore(s.app, s.point, s.tokens.operator, { reason: 'now' });
    expect(r.statusCode).toBe(409);
    expect(JSON.parse(r.body)).toEqual({
      error: `task "push-config" has run #${busy.id} running; wait for it to finish (or cancel it) before rolling back its files`,
      exitCode: 1,
    });
    expect(readFileSync(s.file, 'utf8')).toBe('port: 9090\n');
  });

  it('a viewer is refused 403, as is an operator token limited to another task; both are audited', async () => {
    const s = await setup();
    const viewer = await restore(s.app, s.point, s.tokens.viewer, { reason: 'I want to' });
    expect(viewer.statusCode).toBe(403);
    expect(JSON.parse(viewer.body).error).toContain('needs the operator role');
    const limited = await restore(s.app, s.point, s.tokens.limited, { reason: 'not mine' });
    expect(limited.statusCode).toBe(403);
    expect(JSON.parse(limited.body).error).toContain('may act only on other, not on push-config');
    expect(readFileSync(s.file, 'utf8')).toBe('port: 9090\n');
    const rows = (await s.access.audit({ limit: 100 })).filter((a) => a.action === 'rollback');
    expect(rows.map((a) => [a.actor, a.outcome, a.target])).toEqual(
      expect.arrayContaining([
        ['eve-viewer', 'refused', 'push-config'],
        ['other-only', 'refused', 'push-config'],
      ]),
    );
  });
});

describe('the run page’s Restore form', () => {
  it('an operator restores with a reason and is sent back to the run page, which says what happened', async () => {
    const s = await setup();
    const op = await session(s.app, s.tokens.operator);
    const page = await op.get(`/runs/${s.run.id}`);
    expect(page.body).toMatch(new RegExp(`<code>${s.point}</code>: 1 file, 11B,\\s+taken`));
    expect(page.body).toContain(`action="/runs/${s.run.id}/restore"`);
    expect(page.body).toMatch(/<label for="restore-reason">Reason<\/label>/);
    expect(page.body).toMatch(/<input\s+id="restore-reason"\s+name="reason"[^>]*required/);
    expect(page.body).toMatch(/<button type="submit" class="danger">Restore<\/button>/);

    const r = await op.form(`/runs/${s.run.id}/restore`, { reason: 'bad port' });
    expect(r.statusCode, r.body).toBe(303);
    expect(r.headers.location).toMatch(new RegExp(`^/runs/${s.run.id}\\?notice=[A-Za-z0-9_-]{16}$`));
    expect(readFileSync(s.file, 'utf8')).toBe('port: 8080\n');
    const back = await op.get(String(r.headers.location));
    const [recorded] = (await s.caretaker.history({ task: 'push-config', limit: 5 })).filter(
      (x) => x.trigger === 'rollback',
    );
    expect(back.body).toContain(
      `Restored ${s.point}: 1 file put back, 0 deleted, 1 unchanged. Recorded as <a href="/runs/${recorded!.id}">run #${recorded!.id}</a>.`,
    );
    const audit = (await s.access.audit({ limit: 100 })).filter((a) => a.action === 'rollback');
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'olga-operator',
        target: 'push-config',
        outcome: 'ok',
        detail: `${s.point}, run #${recorded!.id} of push-config; reason: bad port`,
      }),
    ]);
    // A notice is for who made it, and a made-up id shows nothing.
    const other = await session(s.app, (await s.access.createToken({ name: 'o2', role: 'operator' })).token);
    expect((await other.get(String(r.headers.location))).body).not.toContain('Restored');
    expect((await op.get(`/runs/${s.run.id}?notice=made-up`)).body).not.toContain('Restored');
  });

  it('a blank reason or a refused restore comes back as an error line on the run page, audited as failed', async () => {
    const s = await setup();
    const op = await session(s.app, s.tokens.operator);
    const blank = await op.form(`/runs/${s.run.id}/restore`, { reason: '  ' });
    expect(blank.statusCode).toBe(303);
    const page = await op.get(String(blank.headers.location));
    expect(page.body).toContain(
      'Not restored: Reason: required, why the files are being restored (kept in history)',
    );
    expect(readFileSync(s.file, 'utf8')).toBe('port: 9090\n');
    // A run without a point: one clear line, no restore.
    const other = await s.caretaker.runNow('other');
    const none = await op.form(`/runs/${other.id}/restore`, { reason: 'x' });
    expect(none.statusCode).toBe(404);
    expect(none.body).toContain(`run #${other.id} has no rollback point`);
    const rows = (await s.access.audit({ limit: 100 })).filter((a) => a.action === 'rollback');
    expect(rows.map((a) => a.outcome)).toEqual(['failed', 'failed']);
  });

  it('a viewer sees no form, and its POST with its own session and CSRF token is refused 403', async () => {
    const s = await setup();
    const viewer = await session(s.app, s.tokens.viewer);
    const page = await viewer.get(`/runs/${s.run.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(s.point);
    expect(page.body).not.toContain('/restore"');
    expect(page.body).not.toContain('>Restore<');
    const r = await viewer.form(`/runs/${s.run.id}/restore`, { reason: 'let me' });
    expect(r.statusCode).toBe(403);
    expect(r.body).toContain('it needs the operator role');
    expect(readFileSync(s.file, 'utf8')).toBe('port: 9090\n');
  });
});
