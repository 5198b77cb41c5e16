/**
 * A real daemon serving its TCP API over HTTPS (`server.tls`, a self-signed certificate made by
 * openssl), with tokens made and revoked by the CLI while it runs: the store is shared, so a new
 * token works at once and a revoked one stops at once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDaemon } from '../../src/server/client.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir, waitUntil } from '../support/tmp.js';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function selfSigned(dir: string): void {
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(0);
}

function get(
  port: number,
  path: string,
  ca: Buffer,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: string; cookie: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca,
        method: payload ? 'POST' : 'GET',
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', origin: `https://127.0.0.1:${port}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            cookie: String(res.headers['set-cookie'] ?? ''),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function start(dir: string): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir,
    env: { ...process.env, CARETAKER_CONFIG: '' },
  });
  child.stdout!.resume();
  child.stderr!.resume();
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await waitUntil(() => findDaemon(join(dir, '.caretaker')), 'the daemon to answer', 15_000);
  return { child, exited };
}

describe('server.tls and tokens on a running daemon (real processes)', () => {
  it('serves HTTPS with the configured certificate; CLI-made tokens work at once and stop at once when revoked', async () => {
    const dir = tempDir('ct-tls-');
    selfSigned(dir);
    const port = await freePort();
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1\nserver:\n  listen: 127.0.0.1:${port}\n  tls: { cert: cert.pem, key: key.pem }\ntasks:\n  hello: { action: shell, with: { command: "true" } }\n`,
    );
    const ca = readFileSync(join(dir, 'cert.pem'));
    const d = await start(dir);
    try {
      // The certificate is the one configured: verified against it as the only CA.
      expect(await get(port, '/healthz', ca)).toMatchObject({ status: 200, body: '{"ok":true}' });
      expect((await get(port, '/v1/tasks', ca)).status).toBe(401);

      const made = cli(['token', 'create', 'dash', '--role', 'viewer'], { cwd: dir });
      expect(made.code, made.stderr).toBe(0);
      const token = made.stdout.trim();
      const tasks = await get(port, '/v1/tasks', ca, token);
      expect(tasks.status).toBe(200);
      expect(JSON.parse(tasks.body)).toMatchObject([{ id: 'hello' }]);

      // A browser session over HTTPS: the cookie is Secure.
      const login = await get(port, '/login', ca, undefined, { token });
      expect(login.status, login.body).toBe(200);
      expect(login.cookie).toMatch(/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);

      expect(cli(['token', 'revoke', 'dash'], { cwd: dir }).code).toBe(0);
      const after = await get(port, '/v1/tasks', ca, token);
      expect(after.status).toBe(401);
      expect(after.body).toContain('was revoked');

      // Plain HTTP on the HTTPS port gets no API answer.
      const plain = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.status,
        () => 'refused',
      );
      expect(plain).not.toBe(200);
    } finally {
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
    }
  });

  it('a certificate file that cannot be read: start exits 2 with one line naming server.tls.cert', () => {
    const dir = tempDir('ct-tls-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\nserver:\n  listen: 127.0.0.1:1\n  tls: { cert: missing.pem, key: missing-key.pem }\ntasks: {}\n',
    );
    const r = cli(['start'], { cwd: dir });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.includes('server.tls.cert'))).toHaveLength(1);
    expect(r.stderr).toContain(`cannot read ${join(dir, 'missing.pem')} (ENOENT)`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
