/** Talks to a running daemon over its control socket. */
// node:http loads only when a daemon is asked: on Node 22 it brings node:tls and node:http2 along,
// which a command with no daemon to ask (validate, --version) never needs.
import { readHolder, type HolderInfo } from '../caretaker-tools.js';

export class DaemonError extends Error {
  override name = 'DaemonError';
  constructor(
    message: string,
    readonly status: number,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface DaemonHandle {
  readonly info: HolderInfo;
  call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
}

async function call<T>(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs?: number,
): Promise<T> {
  const { request } = await import('node:http');
  return new Promise((resolvePromise, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let data: unknown;
          try {
            data = text ? JSON.parse(text) : undefined;
          } catch {
            data = { error: text };
          }
          if ((res.statusCode ?? 500) >= 400) {
            const e = data as { error?: string; exitCode?: number };
            reject(
              new DaemonError(
                e?.error ?? `daemon answered ${res.statusCode}`,
                res.statusCode ?? 500,
                e?.exitCode ?? 1,
              ),
            );
          } else resolvePromise(data as T);
        });
      },
    );
    req.on('error', reject);
    // A daemon whose event loop is stuck accepts the connection but never answers.
    if (timeoutMs !== undefined)
      req.setTimeout(timeoutMs, () => req.destroy(new Error('the daemon did not answer')));
    if (payload) req.write(payload);
    req.end();
  });
}

/** The running daemon of this state dir, or undefined when none answers. */
export async function findDaemon(stateDir: string): Promise<DaemonHandle | undefined> {
  const info = readHolder(stateDir);
  if (!info?.socket) return undefined;
  // A daemon.json left behind by a killed daemon names a socket nobody listens on: refused.
  try {
    await call(info.socket, 'GET', '/healthz', undefined, 5_000);
  } catch {
    return undefined;
  }
  return { info, call: (method, path, body) => call(info.socket!, method, path, body) };
}
