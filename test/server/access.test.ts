/**
 * Access over the API, through fastify's inject on the real route table with a real SQLite store:
 * every route declares a role and is enforced at it (table-driven over the whole route list),
 * bad tokens are refused, a task limit holds, and the audit log gets one row per change and per
 * refusal — none for reads.
 */
import { userInfo } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Caretaker } from '../../src/caretaker.js';
import { roleBelow, type TokenRole } from '../../src/core/access-roles.js';
import { REFUSAL_WINDOW_MS } from '../../src/engine/access-control.js';
import { createCaretaker, defineAction, ManualClock } from '../../src/index.js';
import { buildApi } from '../../src/server/api.js';
import Fastify from 'fastify';
import { installGuard } from '../../src/server/guard.js';
import { declaredRoutes, requireDeclaredRoutes, router, type RouteSpec } from '../../src/server/routes.js';
import { tempDir } from '../support/tmp.js';

const T0 = Date.UTC(2026, 10, 24, 12);
const MIN = 60_000;
const DAY = 86_400_000;

const noop = defineAction({
  name: 'noop',
  description: 'does nothing',
  schema: z.strictObject({}),
  async run() {
    return { ok: true, summary: 'nothing done' };
  },
});

interface Setup {
  caretaker: Caretaker;
  clock: ManualClock;
  tcp: FastifyInstance;
  socket: FastifyInstance;
  tokens: Record<TokenRole, string>;
  stops: number[];
  reloads: number[];
}

const open: Caretaker[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function setup(extraYaml = ''): Promise<Setup> {
  const dir = tempDir('ct-access-');
  const clock = new ManualClock(T0);
  const caretaker = createCaretaker({
    configText: `version: 1\ntasks:\n  hello: { action: noop }\n  other: { action: noop }\nwatch:\n  beat: { expect: every 1h }\n${extraYaml}`,
    baseDir: dir,
    clock,
    actions: [noop],
  });
  open.push(caretaker);
  const access = await caretaker.access();
  const tokens = {} as Record<TokenRole, string>;
  for (const role of ['viewer', 'operator', 'admin'] as const)
    tokens[role] = (await access.createToken({ name: `${role}-1`, role })).token;
  const stops: number[] = [];
  const reloads: number[] = [];
  const hooks = { onStop: () => stops.push(1), onReload: async () => void reloads.push(1) };
  const tcp = buildApi(caretaker, { listener: 'tcp', ...hooks });
  const socket = buildApi(caretaker, { listener: 'socket', ...hooks });
  return { caretaker, clock, tcp, socket, tokens, stops, reloads };
}

/** A concrete URL of a route: a task, watch or run id that exists in the setup. */
function sample(spec: RouteSpec): string {
  return spec.url
    .replace(':id', /^(\/v1)?\/tasks\//.test(spec.url) ? 'hello' : '1')
    .replace(':name', spec.url.startsWith('/v1/pings/') ? 'beat' : 'nobody');
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function call(app: FastifyInstance, spec: RouteSpec, headers: Record<string, string> = {}) {
  return app.inject({
    method: spec.method,
    url: sample(spec),
    headers: spec.method === 'GET' ? headers : { ...headers, 'content-type': 'application/json' },
    ...(spec.method === 'GET' ? {} : { payload: '{}' }),
  });
}

async function auditRows(c: Caretaker) {
  return (await c.access()).audit({ limit: 10_000 });
}

describe('API access: roles on every route', () => {
  it('every route declares a role; one role too low is refused (403, or 401 without a token) and the right one is not', async () => {
    const s = await setup();
    const routes = declaredRoutes(s.tcp);
    // The whole table, not a sample of it: a new endpoint lands here by itself.
    expect(routes.length).toBeGreaterThanOrEqual(18);
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['GET /healthz', 'POST /v1/tasks/:id/runs', 'POST /v1/stop', 'GET /v1/audit']),
    );
    const seen: string[] = [];
    for (const spec of routes) {
      const name = `${spec.method} ${spec.url} (${spec.role})`;
      expect(['viewer', 'operator', 'admin'], name).toContain(spec.role);
      if (spec.method !== 'GET') expect(spec.action, `${name} names its audit action`).toBeTruthy();
      if (spec.public === true) {
        // Reached without a token (POST /login answers 400 to an empty body: its handler ran).
        const open = await call(s.tcp, spec);
        expect([401, 403], `${name} without a token: ${open.body}`).not.toContain(open.statusCode);
        continue;
      }
      const below = roleBelow(spec.role);
      const low = await call(s.tcp, spec, below ? bearer(s.tokens[below]) : {});
      // A dashboard page sends a browser without a session to /login; its refusals are HTML.
      const page = spec.page === true && spec.method === 'GET';
      expect(low.statusCode, `${name} with ${below ?? 'no'} token: ${low.body}`).toBe(
        below ? 403 : page ? 303 : 401,
      );
      if (!page) expect(JSON.parse(low.body)).toMatchObject({ error: expect.any(String), exitCode: 2 });
      if (below) expect(low.body).toContain(`needs the ${spec.role} role`);
      for (const role of ['viewer', 'operator', 'admin'] as const) {
        if (
          ['viewer', 'operator', 'admin'].indexOf(role) < ['viewer', 'operator', 'admin'].indexOf(spec.role)
        )
          continue;
        const ok = await call(s.tcp, spec, bearer(s.tokens[role]));
        expect([401, 403], `${name} with a ${role} token: ${ok.body}`).not.toContain(ok.statusCode);
      }
      // The control socket is admin: nothing is refused there, and it needs no token.
      const viaSocket = await call(s.socket, spec);
      expect([401, 403], `${name} on the socket: ${viaSocket.body}`).not.toContain(viaSocket.statusCode);
      seen.push(name);
    }
    expect(seen.length).toBe(routes.filter((r) => r.public !== true).length);
    // The admin routes really ran for the admin (and the socket): stop and reload were called.
    expect(s.reloads.length).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(s.stops.length).toBe(2);
  });

  it('a route added without a declared role cannot exist: adding one fails', async () => {
    const s = await setup();
    let error: unknown;
    try {
      s.tcp.get('/v1/sneaky', async () => ({ secret: true }));
      await s.tcp.ready();
    } catch (err) {
      error = err;
    }
    expect(String(error)).toContain('GET /v1/sneaky declares no role');
    const r = await s.tcp.inject({ method: 'GET', url: '/v1/sneaky', headers: bearer(s.tokens.admin) });
    expect(r.statusCode).not.toBe(200);
  });

  it('a route declared public by a function (the hook /metrics uses for metrics.public) is open only while it says so', async () => {
    const s = await setup();
    const app = Fastify();
    requireDeclaredRoutes(app);
    const route = router(app, installGuard(app, s.caretaker, 'tcp'));
    let open = false;
    route(
      { method: 'GET', url: '/metrics', role: 'viewer', public: () => open },
      async () => 'caretaker_up 1\n',
    );
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'GET', url: '/metrics', headers: bearer(s.tokens.viewer) })).statusCode,
    ).toBe(200);
    open = true;
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toBe('caretaker_up 1\n');
    await app.close();
  });

  it('unauthenticated TCP requests get nothing but /healthz, also for unknown paths and HEAD', async () => {
    const s = await setup();
    expect((await s.tcp.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await s.tcp.inject({ method: 'HEAD', url: '/healthz' })).statusCode).toBe(200);
    for (const url of ['/v1/status', '/v1/runs?limit=5', '/v1/nothing-here'])
      expect((await s.tcp.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    // A dashboard page sends the browser to the login form, and shows nothing else.
    for (const url of ['/', '/tasks/hello', '/audit']) {
      const page = await s.tcp.inject({ method: 'GET', url });
      expect([page.statusCode, page.headers.location, page.body], url).toEqual([303, '/login', '']);
    }
    expect((await s.tcp.inject({ method: 'HEAD', url: '/v1/status' })).statusCode).toBe(401);
  });
});

describe('API access: tokens that are refused', () => {
  it('refuses a wrong, malformed, expired or revoked token with 401 and one JSON error line', async () => {
    const s = await setup();
    const access = await s.caretaker.access();
    const { token } = await access.createToken({ name: 'short', role: 'viewer', expiresInMs: DAY });
    const get = (headers: Record<string, string>) =>
      s.tcp.inject({ method: 'GET', url: '/v1/tasks', headers });
    expect((await get(bearer(token))).statusCode).toBe(200);

    const wrong = await get(bearer(`${token.slice(0, -2)}xx`));
    expect(wrong.statusCode).toBe(401);
    expect(JSON.parse(wrong.body)).toEqual({ error: 'the token is not valid', exitCode: 2 });
    expect((await get({ authorization: token })).statusCode).toBe(401);
    expect((await get({ authorization: `Basic ${token}` })).statusCode).toBe(401);

    s.clock.advance(DAY - 1);
    expect((await get(bearer(token))).statusCode).toBe(200);
    s.clock.advance(1);
    const expired = await get(bearer(token));
    expect(expired.statusCode).toBe(401);
    expect(JSON.parse(expired.body).error).toBe(
      `the token "short" expired at ${new Date(T0 + DAY).toISOString()}`,
    );

    await access.revokeToken('viewer-1');
    const revoked = await get(bearer(s.tokens.viewer));
    expect(revoked.statusCode).toBe(401);
    expect(JSON.parse(revoked.body).error).toContain('the token "viewer-1" was revoked at');
    // The others still work.
    expect((await get(bearer(s.tokens.operator))).statusCode).toBe(200);

    const refused = (await auditRows(s.caretaker)).filter((r) => r.outcome === 'refused');
    // Newest first; the two malformed headers within a minute are one row (see the throttle test).
    expect(refused.map((r) => r.actor)).toEqual(['viewer-1', 'short', 'anonymous', 'anonymous']);
    expect(
      refused.every((r) => r.action === 'read' && r.target === '/v1/tasks' && r.source === '127.0.0.1'),
    ).toBe(true);
  });

  it('an operator token limited to some tasks acts only on them (and on their runs)', async () => {
    const s = await setup();
    const access = await s.caretaker.access();
    const { token } = await access.createToken({ name: 'ci', role: 'operator', tasks: ['hello', 'beat'] });
    const post = (url: string) =>
      s.tcp.inject({
        method: 'POST',
        url,
        headers: { ...bearer(token), 'content-type': 'application/json' },
        payload: '{}',
      });
    expect((await post('/v1/tasks/hello/runs')).statusCode).toBe(202);
    const other = await post('/v1/tasks/other/runs');
    expect(other.statusCode).toBe(403);
    expect(JSON.parse(other.body).error).toBe('the token "ci" may act only on hello, beat, not on other');
    expect((await post('/v1/pings/beat')).statusCode).toBe(200);
    // A run of another task, cancelled by id: the run's task is what the limit checks.
    const run = await s.caretaker.runNow('other', { wait: false });
    expect((await post(`/v1/runs/${run.id}/cancel`)).statusCode).toBe(403);
    // Reads are not limited.
    const read = await s.tcp.inject({ method: 'GET', url: '/v1/runs?task=other', headers: bearer(token) });
    expect(read.statusCode).toBe(200);
  });

  it('records a token’s last use at most once a minute', async () => {
    const s = await setup();
    const access = await s.caretaker.access();
    const lastUsed = async () => (await access.listTokens()).find((t) => t.name === 'viewer-1')!.lastUsedAt;
    const get = () => s.tcp.inject({ method: 'GET', url: '/v1/tasks', headers: bearer(s.tokens.viewer) });
    expect(await lastUsed()).toBeNull();
    await get();
    expect(await lastUsed()).toBe(T0);
    s.clock.advance(59_000);
    await get();
    expect(await lastUsed()).toBe(T0);
    s.clock.advance(1_000);
    await get();
    expect(await lastUsed()).toBe(T0 + MIN);
  });

  it('keeps server.token_env working as a legacy admin token (audited as env:NAME)', async () => {
    const env = `CT_LEGACY_TOKEN_${process.pid}`;
    const s = await setup(`server: { token_env: ${env} }\n`);
    const post = () =>
      s.tcp.inject({ method: 'POST', url: '/v1/reload', headers: bearer('legacy-secret-value') });
    expect((await post()).statusCode).toBe(401);
    process.env[env] = 'legacy-secret-value';
    try {
      expect((await post()).statusCode).toBe(200);
    } finally {
      delete process.env[env];
    }
    s.clock.advance(REFUSAL_WINDOW_MS); // the same refusal again within a minute would be counted, not written
    expect((await post()).statusCode).toBe(401);
    const rows = await auditRows(s.caretaker);
    expect(rows.map((r) => [r.actor, r.action, r.outcome])).toEqual([
      ['anonymous', 'reload', 'refused'],
      [`env:${env}`, 'reload', 'ok'],
      ['anonymous', 'reload', 'refused'],
    ]);
    expect(JSON.stringify(rows)).not.toContain('legacy-secret-value');
  });
});

describe('API access: the audit log', () => {
  it('one row per change and per refusal, none for reads or successful pings', async () => {
    const s = await setup();
    const headers = (role: TokenRole) => ({ ...bearer(s.tokens[role]), 'content-type': 'application/json' });
    const inject = (method: 'GET' | 'POST', url: string, role: TokenRole, app = s.tcp) =>
      app.inject({ method, url, headers: headers(role), ...(method === 'POST' ? { payload: '{}' } : {}) });

    for (const url of ['/v1/status', '/v1/tasks', '/v1/runs', '/v1/watches', '/v1/incidents', '/v1/report'])
      expect((await inject('GET', url, 'viewer')).statusCode, url).toBe(200);
    expect((await inject('GET', '/v1/tokens', 'admin')).statusCode).toBe(200);
    expect((await inject('POST', '/v1/pings/beat', 'operator')).statusCode).toBe(200);
    expect(await auditRows(s.caretaker)).toEqual([]);

    const run = JSON.parse((await inject('POST', '/v1/tasks/hello/runs', 'operator')).body) as { id: number };
    s.clock.advance(1);
    expect((await inject('POST', `/v1/runs/${run.id}/cancel`, 'operator')).statusCode).toBe(404);
    s.clock.advance(1);
    expect((await inject('POST', '/v1/tasks/nope/runs', 'operator')).statusCode).toBe(404);
    s.clock.advance(1);
    expect((await inject('POST', '/v1/tasks/hello/runs', 'viewer')).statusCode).toBe(403);
    s.clock.advance(1);
    expect((await inject('POST', '/v1/reload', 'admin', s.socket)).statusCode).toBe(200);
    s.clock.advance(1);
    const made = await s.socket.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'dash', role: 'viewer', expires: '30d' }),
    });
    expect(made.statusCode).toBe(201);
    s.clock.advance(1);
    expect((await inject('POST', '/v1/tokens/dash/revoke', 'admin')).statusCode).toBe(200);
    s.clock.advance(1);
    expect((await inject('POST', '/v1/pings/nope', 'operator')).statusCode).toBe(404);
    s.clock.advance(1);
    expect((await inject('POST', '/v1/stop', 'operator')).statusCode).toBe(403);

    const unix = `unix:${userInfo().username}`;
    const rows = (await auditRows(s.caretaker)).reverse();
    expect(rows.map((r) => [r.actor, r.source, r.action, r.target, r.outcome])).toEqual([
      ['operator-1', '127.0.0.1', 'run', 'hello', 'ok'],
      ['operator-1', '127.0.0.1', 'cancel', 'hello', 'failed'],
      ['operator-1', '127.0.0.1', 'run', 'nope', 'failed'],
      ['viewer-1', '127.0.0.1', 'run', 'hello', 'refused'],
      [unix, 'socket', 'reload', null, 'ok'],
      [unix, 'socket', 'token.create', 'dash', 'ok'],
      ['admin-1', '127.0.0.1', 'token.revoke', 'dash', 'ok'],
      ['operator-1', '127.0.0.1', 'ping', 'nope', 'failed'],
      ['operator-1', '127.0.0.1', 'stop', '/v1/stop', 'refused'],
    ]);
    expect(rows.map((r) => r.at)).toEqual(rows.map((_, i) => T0 + i));
    expect(rows[1]!.detail).toContain('is not queued or running');
    expect(rows[2]!.detail).toContain('nope');
    expect(rows[3]!.detail).toContain('needs the operator role');
    // The token made through the API is in the answer once, never in the audit log.
    const token = (JSON.parse(made.body) as { token: string }).token;
    expect(token).toMatch(/^ct_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(s.stops).toEqual([]);
  });
});

describe('API access: who a change is recorded as', () => {
  it('a pause over TCP is the token’s, whatever the body names; the socket’s caller names its user', async () => {
    const s = await setup();
    const body = { reason: 'disk swap', by: 'alice' };
    const tcp = await s.tcp.inject({
      method: 'POST',
      url: '/v1/tasks/hello/pause',
      headers: bearer(s.tokens.operator),
      payload: body,
    });
    expect(tcp.statusCode).toBe(200);
    expect(tcp.json().record).toMatchObject({ task: 'hello', by: 'operator-1', reason: 'disk swap' });
    const socket = await s.socket.inject({ method: 'POST', url: '/v1/tasks/other/pause', payload: body });
    expect(socket.json().record).toMatchObject({ task: 'other', by: 'alice' });
    const rows = await (await s.caretaker.access()).audit({ limit: 10 });
    expect(rows.filter((r) => r.action === 'pause').map((r) => [r.actor, r.target, r.outcome])).toEqual([
      [`unix:${userInfo().username}`, 'other', 'ok'],
      ['operator-1', 'hello', 'ok'],
    ]);
  });
});

describe('metrics of a pause', () => {
  it('caretaker_task_paused is 1 for a paused task, 0 for the others, and 0 again after resume', async () => {
    const s = await setup();
    await s.socket.inject({ method: 'POST', url: '/v1/tasks/hello/pause', payload: { reason: 'r' } });
    const paused = (await s.socket.inject({ method: 'GET', url: '/metrics' })).body;
    expect(paused).toMatch(/^caretaker_task_paused\{task="hello"\} 1$/m);
    expect(paused).toMatch(/^caretaker_task_paused\{task="other"\} 0$/m);
    await s.socket.inject({ method: 'POST', url: '/v1/tasks/hello/resume' });
    const resumed = (await s.socket.inject({ method: 'GET', url: '/metrics' })).body;
    expect(resumed).toMatch(/^caretaker_task_paused\{task="hello"\} 0$/m);
  });
});

describe('API access: refusals that repeat', () => {
  it('writes the same refusal from the same source once a minute, counting the rest into the next row', async () => {
    const s = await setup();
    const scan = () => s.tcp.inject({ method: 'GET', url: '/v1/tasks' });
    for (let i = 0; i < 100; i++) expect((await scan()).statusCode).toBe(401);
    const other = await s.tcp.inject({ method: 'GET', url: '/v1/runs' }); // another refusal: its own row
    expect(other.statusCode).toBe(401);
    let rows = (await auditRows(s.caretaker)).filter((r) => r.outcome === 'refused');
    expect(rows.map((r) => r.target)).toEqual(['/v1/runs', '/v1/tasks']);
    s.clock.advance(REFUSAL_WINDOW_MS);
    expect((await scan()).statusCode).toBe(401);
    rows = (await auditRows(s.caretaker)).filter((r) => r.outcome === 'refused' && r.target === '/v1/tasks');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.detail).toBe(
      `this endpoint needs a token: Authorization: Bearer TOKEN (caretaker token create) (and 99 more like it since ${new Date(T0).toISOString().replace(/\.\d{3}Z$/, 'Z')})`,
    );
  });
});
