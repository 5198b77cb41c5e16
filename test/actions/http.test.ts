import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness } from '../support/engine-harness.js';

let server: Server;
let base = '';
const seen: { method: string; auth: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, auth: req.headers.authorization, body });
      if (req.url === '/health') res.end('{"status":"ok"}');
      else if (req.url === '/broken') res.writeHead(503).end('down for maintenance');
      else if (req.url === '/slow') setTimeout(() => res.end('late'), 3_000);
      else res.writeHead(404).end('no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('http action', () => {
  it('succeeds on the expected status and body, and records latency', async () => {
    const h = await harness(`  ok: { action: http, with: { url: "${base}/health", expect_body: '"ok"' } }\n`);
    const run = await h.ct.runNow('ok');
    expect(run.status).toBe('success');
    expect(run.result!.details).toMatchObject({ status: 200 });
    expect(run.outputTail).toMatch(/^HTTP 200 OK in \d+ms\n\{"status":"ok"\}/);
  });

  it('fails on an unexpected status, naming it', async () => {
    const h = await harness(
      `  down: { action: http, with: { url: "${base}/broken" } }\n  accept: { action: http, with: { url: "${base}/broken", expect_status: [200, 503] } }\n`,
    );
    const run = await h.ct.runNow('down');
    expect(run).toMatchObject({ status: 'failed' });
    expect(run.reason).toBe(`GET ${base}/broken: status 503 not expected ("2xx")`);
    expect((await h.ct.runNow('accept')).status).toBe('success');
  });

  it('sends a JSON body and a header from the environment without recording the secret', async () => {
    process.env.CT_TEST_TOKEN = 'Bearer s3cret-value';
    const h = await harness(
      `  post: { action: http, with: { url: "${base}/health", body: { purge: true }, headers_env: { authorization: CT_TEST_TOKEN } } }\n`,
    );
    const run = await h.ct.runNow('post');
    expect(run.status).toBe('success');
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      auth: 'Bearer s3cret-value',
      body: '{"purge":true}',
    });
    expect(JSON.stringify(run)).not.toContain('s3cret');
  });

  it('gives up after its own timeout with a clear reason', async () => {
    const h = await harness(`  slow: { action: http, with: { url: "${base}/slow", timeout: 200ms } }\n`);
    const run = await h.ct.runNow('slow');
    expect(run).toMatchObject({
      status: 'failed',
      reason: `GET ${base}/slow failed: no response within 200ms`,
    });
  });
});
