/**
 * Real loopback servers for the health and alert tests: an HTTP server with routes the test
 * writes, a webhook receiver that keeps every request (raw body and headers), a TCP listener,
 * self-signed certificates made with openssl. The machine's own services (PostgreSQL, Redis)
 * are in services.ts.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface Loopback {
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse, body: string) => unknown;

/** An HTTP server on 127.0.0.1 (random port), closed when the test ends. */
export async function httpServer(routes: Record<string, Route> = {}, fallback?: Route): Promise<Loopback> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '/').split('?')[0]!;
      const route = routes[path] ?? fallback;
      if (!route) {
        res.writeHead(404).end('not found');
        return;
      }
      void Promise.resolve(route(req, res, body)).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  onTestFinished(close);
  return { url: `http://127.0.0.1:${port}`, port, received, close };
}

/** A TCP listener that accepts and holds connections. */
export async function tcpListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  onTestFinished(close);
  return { port: (server.address() as AddressInfo).port, close };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const l = createTcpServer();
  await new Promise<void>((r) => l.listen(0, '127.0.0.1', r));
  const port = (l.address() as AddressInfo).port;
  await new Promise<void>((r) => l.close(() => r()));
  return port;
}

/**
 * A self-signed certificate for `cn` (also 127.0.0.1 and localhost) valid for `days` from now;
 * a negative number makes one that expired a day ago (openssl 3.0 goes back at most one day).
 */
export function selfSigned(
  dir: string,
  name: string,
  days: number,
  cn = 'localhost',
): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    String(Math.max(1, days)),
    '-subj',
    `/CN=${cn}`,
    '-addext',
    `subjectAltName=DNS:${cn},DNS:localhost,IP:127.0.0.1`,
  ]);
  if (days < 0) {
    // Re-sign with an end date in the past (x509 -days accepts -1).
    const expired = join(dir, `${name}.expired.crt`);
    run(['x509', '-in', cert, '-signkey', key, '-days', '-1', '-out', expired]);
    return { key, cert: expired };
  }
  return { key, cert };
}
