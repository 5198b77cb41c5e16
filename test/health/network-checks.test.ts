/**
 * health: http, tcp, tls, postgres and redis checks against real loopback servers (slow and
 * failing routes, self-signed certificates with chosen expiry dates) and the machine's
 * PostgreSQL and Redis.
 */
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { healthAction } from '../../src/actions/health/health.js';
import type { CheckResult } from '../../src/actions/health/check-types.js';
import type { ActionResult } from '../../src/actions/types.js';
import { runAction } from '../support/run-action.js';
import { closedPort, httpServer, selfSigned, tcpListener } from '../support/loopback-servers.js';
import { needPostgres, needRedis, PG_URL, REDIS_URL } from '../support/services.js';
import { tempDir } from '../support/tmp.js';

function checks(r: ActionResult): Record<string, CheckResult> {
  const list = (r.details as { checks: CheckResult[] }).checks;
  return Object.fromEntries(list.map((c) => [c.name, c]));
}

async function health(options: unknown): Promise<ActionResult> {
  return runAction(healthAction, options, { baseDir: tempDir() }).then((r) => r.result);
}

describe('health: http', () => {
  it('judges status, body, a JSON value and latency; follows redirects', async () => {
    const srv = await httpServer({
      '/ok': (_q, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","db":{"up":true}}'),
      '/broken': (_q, res) => res.writeHead(500).end('boom'),
      '/slow': (_q, res) => void setTimeout(() => res.writeHead(200).end('late'), 400),
      '/moved': (_q, res) => res.writeHead(302, { location: '/ok' }).end(),
      '/loop': (_q, res) => res.writeHead(302, { location: '/loop' }).end(),
      '/degraded': (_q, res) => res.writeHead(200).end('{"status":"degraded"}'),
    });
    const r = await health({
      http: [
        {
          name: 'ok',
          url: `${srv.url}/ok`,
          expect_status: 200,
          json: { path: 'db.up', equals: true },
          body_contains: '"ok"',
        },
        { name: 'broken', url: `${srv.url}/broken` },
        { name: 'slow', url: `${srv.url}/slow`, warn_latency: '200ms', fail_latency: '5s' },
        { name: 'moved', url: `${srv.url}/moved`, json: { path: '/status', equals: 'ok' } },
        { name: 'loop', url: `${srv.url}/loop`, max_redirects: 3 },
        { name: 'degraded', url: `${srv.url}/degraded`, json: { path: 'status', equals: 'ok' } },
      ],
    });
    const c = checks(r);
    expect(c.ok).toMatchObject({ status: 'ok', unit: 'ms' });
    expect(c.broken!.status).toBe('fail');
    expect(c.broken!.message).toMatch(/→ 500 .*status 500, expected "2xx"/);
    expect(c.slow!.status).toBe('warn');
    expect(c.slow!.value as number).toBeGreaterThanOrEqual(400);
    expect(c.moved).toMatchObject({ status: 'ok', details: { finalUrl: `${srv.url}/ok`, redirects: 1 } });
    expect(c.loop!.message).toMatch(/more than 3 redirects/);
    expect(c.degraded!.message).toMatch(/status is "degraded", expected "ok"/);
    expect(r.ok).toBe(false);
    expect(r.warnings).toEqual([expect.stringMatching(/^http slow: GET .* slow: /)]);
    expect(r.summary).toMatch(/^6 checks: 2 ok, 1 warn, 3 fail — http /);
    expect(r.samples).toContainEqual({
      key: 'http:ok:latency_ms',
      value: c.ok!.value,
      unit: 'ms',
      better: 'lower',
    });
  });

  it('times out a hung check on its own while the others finish', async () => {
    const srv = await httpServer({
      '/hang': () => {}, // never answers
      '/fast': (_q, res) => res.writeHead(200).end('ok'),
    });
    const started = Date.now();
    const r = await health({
      http: [
        { name: 'hang', url: `${srv.url}/hang`, timeout: '300ms' },
        ...Array.from({ length: 5 }, (_, i) => ({ name: `fast${i}`, url: `${srv.url}/fast` })),
      ],
    });
    const took = Date.now() - started;
    const c = checks(r);
    expect(c.hang).toMatchObject({ status: 'fail', message: 'no answer within 300ms (timeout)' });
    for (let i = 0; i < 5; i++) expect(c[`fast${i}`]!.status).toBe('ok');
    expect(took).toBeLessThan(3_000);
  });
});

describe('health: tcp', () => {
  it('connects to a listener and fails on a closed port', async () => {
    const l = await tcpListener();
    const closed = await closedPort();
    const c = checks(
      await health({
        tcp: [
          { name: 'up', port: l.port },
          { name: 'down', host: '127.0.0.1', port: closed },
        ],
      }),
    );
    expect(c.up!.status).toBe('ok');
    expect(c.down).toMatchObject({
      status: 'fail',
      message: `cannot connect to 127.0.0.1:${closed}: ECONNREFUSED`,
    });
  });
});

describe('health: tls', () => {
  async function tlsServer(cert: { key: string; cert: string }): Promise<number> {
    const server = createHttpsServer(
      { key: readFileSync(cert.key), cert: readFileSync(cert.cert) },
      (_q, res) => res.end('ok'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    return (server.address() as AddressInfo).port;
  }

  it('reports days to expiry against warn_days and fail_days, and an expired certificate', async () => {
    const dir = tempDir();
    const certs = { fresh: 90, soon: 20, urgent: 3, expired: -1 };
    const specs = [];
    for (const [name, days] of Object.entries(certs)) {
      const cert = selfSigned(dir, name, days);
      specs.push({
        name,
        host: '127.0.0.1',
        servername: 'localhost',
        port: await tlsServer(cert),
        ca_file: cert.cert,
      });
    }
    const c = checks(await health({ tls: specs }));
    expect(c.fresh).toMatchObject({
      status: 'ok',
      unit: 'days',
      details: { chainValid: true, hostnameValid: true },
    });
    expect(c.fresh!.value as number).toBeGreaterThan(89);
    expect(c.soon!.status).toBe('warn');
    expect(c.urgent!.status).toBe('fail');
    expect(c.expired!.status).toBe('fail');
    expect(c.expired!.message).toMatch(/EXPIRED/);
    expect(c.soon!.message).toMatch(/^localhost: certificate expires \d{4}-\d\d-\d\d \(in 19 days\)$/);
  });

  it('fails an untrusted chain or a wrong host name, and still says when it expires', async () => {
    const dir = tempDir();
    const cert = selfSigned(dir, 'site', 60, 'site.example');
    const port = await tlsServer(cert);
    const c = checks(
      await health({
        tls: [
          { name: 'untrusted', host: '127.0.0.1', servername: 'site.example', port },
          { name: 'wrongname', host: '127.0.0.1', servername: 'other.example', port, ca_file: cert.cert },
          { name: 'tolerated', host: '127.0.0.1', servername: 'site.example', port, allow_invalid: true },
        ],
      }),
    );
    expect(c.untrusted!.status).toBe('fail');
    expect(c.untrusted!.message).toMatch(/expires .* chain not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    expect(c.wrongname!.status).toBe('fail');
    expect(c.wrongname!.message).toMatch(/not valid for other\.example/);
    expect(c.tolerated!.status).toBe('warn');
  });
});

const noPostgres = await needPostgres();
const noRedis = await needRedis();

describe('health: postgres and redis', () => {
  it.skipIf(noPostgres)('connects and pings, and fails on a database that does not exist', async () => {
    process.env.CT_PG_URL = PG_URL;
    const noDb = new URL(PG_URL);
    noDb.pathname = '/no_such_db_ct';
    const c = checks(
      await health({
        postgres: [
          { name: 'db', url_env: 'CT_PG_URL' },
          { name: 'nodb', url: noDb.toString() },
        ],
      }),
    );
    delete process.env.CT_PG_URL;
    expect(c.db).toMatchObject({ status: 'ok', unit: 'ms' });
    expect(c.nodb!.status).toBe('fail');
    expect(c.nodb!.message).toMatch(/no_such_db_ct/);
  });

  it.skipIf(noRedis)('pings Redis and fails on a closed port', async () => {
    const closed = await closedPort();
    const c = checks(
      await health({
        redis: [
          { name: 'cache', url: REDIS_URL },
          { name: 'gone', url: `redis://127.0.0.1:${closed}` },
        ],
      }),
    );
    expect(c.cache).toMatchObject({ status: 'ok', message: expect.stringMatching(/^answered PING in /) });
    expect(c.gone!.status).toBe('fail');
    expect(c.gone!.message).toMatch(/ECONNREFUSED/);
  });
});
