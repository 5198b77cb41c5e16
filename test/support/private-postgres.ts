/**
 * A PostgreSQL server of a test's own, which the test may stop and start (the machine's shared
 * server must never be stopped: other tests use it). initdb + pg_ctl from
 * /usr/lib/postgresql/<newest>/bin, on a free port of 127.0.0.1, its socket and data in a temp
 * dir; password authentication (scram) for every connection, so a wrong password is testable.
 * As root the binaries run as the `postgres` user (`runuser -u postgres --`), which owns the dir.
 *
 *   const noPrivatePg = privatePostgresMissing();
 *   describe.skipIf(noPrivatePg)('…', () => { const pg = await startPrivatePostgres(); … });
 *
 * The server is stopped and its dir removed when the test finishes.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onTestFinished } from 'vitest';
import { skipBecause } from './skip-reason.js';

const run = promisify(execFile);

export const PRIVATE_PG_PASSWORD = 'private-pg-secret';

function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/** The reason a private server cannot run here (printed), or undefined. */
export function privatePostgresMissing(): string | undefined {
  if (binDir()) return undefined;
  return skipBecause(
    'private PostgreSQL tests',
    'initdb and pg_ctl are not under /usr/lib/postgresql/*/bin (install postgresql)',
    { requiredUnderCi: true },
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  readonly port: number;
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  readonly url: string;
  /** The same with a wrong password. */
  readonly wrongPasswordUrl: string;
  /** Stops the server (fast: open connections are terminated with 57P01). */
  stop(): Promise<void>;
  start(): Promise<void>;
  readonly running: boolean;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  if (!bin) throw new Error('no PostgreSQL binaries (check privatePostgresMissing() first)');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'ct-privpg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${PRIVATE_PG_PASSWORD}\n`);
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    chownSync(pwfile, Number(stdout.trim()), Number(gid.trim()));
  }
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args);
  await as('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=scram-sha-256',
    `--pwfile=${pwfile}`,
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  let running = false;
  const server: PrivatePostgres = {
    port,
    url: `postgres://postgres:${PRIVATE_PG_PASSWORD}@127.0.0.1:${port}/postgres`,
    wrongPasswordUrl: `postgres://postgres:not-the-password@127.0.0.1:${port}/postgres`,
    get running() {
      return running;
    },
    async start() {
      await as('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
      running = true;
    },
    async stop() {
      await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
      running = false;
    },
  };
  await server.start();
  onTestFinished(async (ctx) => {
    if (running) await server.stop().catch(() => {});
    if (ctx.task.result?.state !== 'fail') rmSync(dir, { recursive: true, force: true });
  });
  return server;
}
