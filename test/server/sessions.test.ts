/**
 * Browser sessions on the TCP API (fastify inject on the real app and a real SQLite store): log
 * in with a token, then the cookie; changes need the CSRF token and this server's Origin; the
 * token is re-checked on every request; failed logins are limited per address.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Caretaker } from '../../src/caretaker.js';
import { createCaretaker, defineAction, ManualClock } from '../../src/index.js';
import { buildApi } from '../../src/server/api.js';
import { tempDir } from '../support/tmp.js';

const T0 = Date.UTC(2026, 10, 24, 12);
const HOST = '127.0.0.1:8787';
const ORIGIN = `http://${HOST}`;

const noop = defineAction({
  name: 'noop',
  description: 'does nothing',
  schema: z.strictObject({}),
  async run() {
    return { ok: true, summary: 'nothing done' };
  },
});

const open: Caretaker[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function setup() {
  const clock = new ManualClock(T0);
  const caretaker = createCaretaker({
    configText: 'version: 1\ntasks:\n  hello: { action: noop }\n',
    baseDir: tempDir('ct-session-'),
    clock,
    actions: [noop],
  });
  open.push(caretaker);
  const access = await caretaker.access();
  const op = (await access.createToken({ name: 'op', role: 'operator' })).token;
  const viewer = (await access.createToken({ name: 'web', role: 'viewer' })).token;
  const app = buildApi(caretaker, { listener: 'tcp' });
  return { caretaker, clock, access, app, op, viewer };
}

async function login(
  app: FastifyInstance,
  token: string,
  headers: Record<string, string> = { origin: ORIGIN },
) {
  const r = await app.inject({
    method: 'POST',
    url: '/login',
    headers: { host: HOST, 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ token }),
  });
  const cookie = /^ct_session=([^;]+)/.exec(String(r.headers['set-cookie'] ?? ''))?.[1];
  return { r, cookie, body: JSON.parse(r.body) as { csrf?: string; role?: string; error?: string } };
}

function post(app: FastifyInstance, url: string, headers: Record<string, string>) {
  return app.inject({
    method: 'POST',
    url,
    headers: { host: HOST, 'content-type': 'application/json', ...headers },
    payload: '{}',
  });
}

describe('browser sessions', () => {
  it('log in with a token: an HttpOnly SameSite=Strict cookie (not Secure without TLS) and a CSRF token', async () => {
    const s = await setup();
    const { r, cookie, body } = await login(s.app, s.op);
    expect(r.statusCode).toBe(200);
    const set = String(r.headers['set-cookie']);
    expect(set).toMatch(/^ct_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(set).not.toContain('Secure');
    expect(body).toMatchObject({
      actor: 'op',
      role: 'operator',
      csrf: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    // The cookie reads without a bearer token.
    const read = await s.app.inject({
      method: 'GET',
      url: '/v1/tasks',
      headers: { cookie: `ct_session=${cookie}` },
    });
    expect(read.statusCode).toBe(200);
    const rows = await s.access.audit();
    expect(rows.map((a) => [a.actor, a.action, a.outcome])).toEqual([['op', 'login', 'ok']]);
    expect(JSON.stringify(rows)).not.toContain(cookie);
  });

  it('a change with the cookie needs the CSRF token and this server’s Origin', async () => {
    const s = await setup();
    const { cookie, body } = await login(s.app, s.op);
    const c = `ct_session=${cookie}`;
    const noCsrf = await post(s.app, '/v1/tasks/hello/runs', { cookie: c, origin: ORIGIN });
    expect(noCsrf.statusCode).toBe(403);
    expect(JSON.parse(noCsrf.body).error).toContain('X-CSRF-Token');
    const wrongCsrf = await post(s.app, '/v1/tasks/hello/runs', {
      cookie: c,
      origin: ORIGIN,
      'x-csrf-token': 'x'.repeat(43),
    });
    expect(wrongCsrf.statusCode).toBe(403);
    const otherSite = await post(s.app, '/v1/tasks/hello/runs', {
      cookie: c,
      origin: 'https://evil.example',
      'x-csrf-token': body.csrf!,
    });
    expect(otherSite.statusCode).toBe(403);
    expect(JSON.parse(otherSite.body).error).toContain('Origin https://evil.example');
    const noOrigin = await post(s.app, '/v1/tasks/hello/runs', { cookie: c, 'x-csrf-token': body.csrf! });
    expect(noOrigin.statusCode).toBe(403);
    const ok = await post(s.app, '/v1/tasks/hello/runs', {
      cookie: c,
      origin: ORIGIN,
      'x-csrf-token': body.csrf!,
    });
    expect(ok.statusCode).toBe(202);
    // The session has its token's role: an operator session may not reload.
    const reload = await post(s.app, '/v1/reload', { cookie: c, origin: ORIGIN, 'x-csrf-token': body.csrf! });
    expect(reload.statusCode).toBe(403);
    const rows = (await s.access.audit()).reverse();
    expect(rows.map((a) => [a.actor, a.action, a.outcome])).toEqual([
      ['op', 'login', 'ok'],
      // The same refusal twice within a minute is one row (see access.test.ts).
      ['op', 'run', 'refused'],
      ['anonymous', 'run', 'refused'],
      ['anonymous', 'run', 'refused'],
      ['op', 'run', 'ok'],
      ['op', 'reload', 'refused'],
    ]);
  });

  it('revoking the token ends its sessions; logout ends one; a login from another site is refused', async () => {
    const s = await setup();
    const a = await login(s.app, s.viewer);
    const b = await login(s.app, s.viewer);
    const get = (cookie: string | undefined) =>
      s.app.inject({ method: 'GET', url: '/v1/tasks', headers: { cookie: `ct_session=${cookie}` } });
    const out = await post(s.app, '/logout', {
      cookie: `ct_session=${a.cookie}`,
      origin: ORIGIN,
      'x-csrf-token': a.body.csrf!,
    });
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await get(a.cookie)).statusCode).toBe(401);
    expect((await get(b.cookie)).statusCode).toBe(200);
    await s.access.revokeToken('web');
    const revoked = await get(b.cookie);
    expect(revoked.statusCode).toBe(401);
    expect(JSON.parse(revoked.body).error).toContain('was revoked');
    expect((await get('made-up')).statusCode).toBe(401);
    const cross = await login(s.app, s.op, { origin: 'https://evil.example' });
    expect(cross.r.statusCode).toBe(403);
    expect(cross.cookie).toBeUndefined();
  });

  it('limits failed logins per address: the sixth within a minute is 429, even with the right token, until the minute passes', async () => {
    const s = await setup();
    for (let i = 0; i < 5; i++) {
      const bad = await login(s.app, `ct_wrong${i}`);
      expect(bad.r.statusCode).toBe(401);
      s.clock.advance(1_000);
    }
    const limited = await login(s.app, s.op);
    expect(limited.r.statusCode).toBe(429);
    expect(limited.r.headers['retry-after']).toBe('55');
    expect(limited.body.error).toBe('too many failed logins from 127.0.0.1; try again in 55s');
    expect(limited.cookie).toBeUndefined();
    s.clock.advance(55_000);
    const ok = await login(s.app, s.op);
    expect(ok.r.statusCode).toBe(200);
    expect(ok.cookie).toBeDefined();
    const rows = (await s.access.audit()).reverse();
    expect(rows.map((a) => [a.action, a.outcome])).toEqual([
      ...Array.from({ length: 6 }, () => ['login', 'refused']),
      ['login', 'ok'],
    ]);
  });
});
