/**
 * The daemon process: takes the state dir's lock, starts the engine, serves the API on the
 * control socket (and TCP when configured), reloads on SIGHUP, and stops gracefully on
 * SIGTERM/SIGINT.
 */
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Caretaker } from '../caretaker.js';
import {
  closeStartFailure,
  createDaemonCaretaker,
  reportStartFailure as alertStartFailure,
} from '../caretaker-tools.js';
import { formatDuration } from '../core/duration.js';
import { plural } from '../core/plural.js';
import { ConfigError } from '../errors/config-error.js';
import { StateLockedError } from '../errors/state-locked-error.js';
import { VERSION } from '../version.js';
import { buildApi } from './api.js';

export interface DaemonOptions {
  readonly configPath: string;
  /** Log to the terminal as well as to the log file. */
  readonly console: boolean;
  readonly host?: string;
  /** Called once the daemon is serving. */
  readonly onReady?: (info: { socket: string; pid: number }) => void;
}

/** Unix socket paths are limited to ~107 bytes; a long state dir gets one in the temp dir. */
export function socketPathFor(stateDir: string): string {
  const local = resolve(stateDir, 'control.sock');
  if (Buffer.byteLength(local) < 100) return local;
  return resolve(
    tmpdir(),
    `caretaker-${createHash('sha256').update(stateDir).digest('hex').slice(0, 16)}.sock`,
  );
}

/** The PEM files of `server.tls`; one line naming the key and the file when one cannot be read. */
function readTls(tls: { cert: string; key: string }, file: string): { cert: Buffer; key: Buffer } {
  const read = (key: 'cert' | 'key') => {
    try {
      return readFileSync(tls[key]);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ConfigError([
        { file, line: 0, column: 0, path: `server.tls.${key}`, message: `cannot read ${tls[key]} (${why})` },
      ]);
    }
  };
  return { cert: read('cert'), key: read('key') };
}

/**
 * Tells the configured channels that caretaker could not start (except when another daemon
 * already runs: that is not an outage), then lets the error go on to the caller.
 */
export async function reportStartFailure(configPath: string, err: unknown): Promise<void> {
  if (err instanceof StateLockedError) return;
  const report = await alertStartFailure(configPath, err);
  if (report.suppressed) process.stderr.write(`caretaker: ${report.suppressed}\n`);
  for (const a of report.alerts) {
    process.stderr.write(
      a.outcome.ok
        ? `caretaker: start failure reported through ${a.channel}\n`
        : `caretaker: could not report the start failure through ${a.channel}: ${a.outcome.error}\n`,
    );
  }
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  try {
    return await serve(opts);
  } catch (err) {
    await reportStartFailure(opts.configPath, err);
    throw err;
  }
}

async function serve(opts: DaemonOptions): Promise<number> {
  // Loading the config first gives its errors to the caller (exit 2) before anything starts.
  const caretaker: Caretaker = await createDaemonCaretaker({
    configPath: opts.configPath,
    host: opts.host,
    console: opts.console,
  });
  const logger: Logger = caretaker.logger;
  const { stateDir } = caretaker.config;
  caretaker.on('error', (err) => logger.error({ err }, 'engine error'));

  const socket = socketPathFor(stateDir);
  const servers: FastifyInstance[] = [];
  let stopping: Promise<void> | null = null;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((r) => (resolveDone = r));

  const reload = async () => {
    try {
      // The engine logs "configuration reloaded" itself (also for a library's reload).
      await caretaker.reload();
    } catch (err) {
      const msg = err instanceof ConfigError ? err.message : (err as Error).message;
      logger.error(`configuration not reloaded, the previous one stays in force:\n${msg}`);
      throw err;
    }
  };
  const stop = (why: string) => {
    stopping ??= (async () => {
      logger.info(
        `${why}: stopping (running tasks get ${formatDuration(caretaker.config.shutdownGraceMs)} to finish)`,
      );
      await Promise.allSettled(servers.map((s) => s.close()));
      await caretaker.stop();
      rmSync(socket, { force: true });
      await new Promise<void>((r) => logger.flush(() => r()));
      resolveDone(0);
    })();
    return stopping;
  };

  // The certificate is read before anything starts: a wrong path is the configuration's error.
  const { listen, tls, tokenEnv } = caretaker.config.server;
  const https = listen && tls ? readTls(tls, caretaker.config.file) : undefined;
  await caretaker.start({ socket });
  // The daemon (not an embedding service) writes the heartbeat `caretaker status` reads.
  await caretaker.startHeartbeat();
  // Before the socket answers: whoever sees the daemon up may signal it, and a SIGTERM that came
  // before the handlers were on would kill it outright (no graceful stop, exit by signal).
  const onTerm = () => void stop('SIGTERM received');
  const onInt = () => void stop('SIGINT received');
  const onHup = () => void reload().catch(() => {});
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  try {
    rmSync(socket, { force: true }); // we hold the lock: any socket file left here is stale
    const control = buildApi(caretaker, {
      listener: 'socket',
      onStop: () => void stop('stop requested'),
      onReload: reload,
    });
    await control.listen({ path: socket });
    chmodSync(socket, 0o600);
    servers.push(control);
    let http: string | undefined;
    if (listen) {
      const api = buildApi(caretaker, {
        listener: 'tcp',
        https,
        onStop: () => void stop('stop requested'),
        onReload: reload,
      });
      try {
        await api.listen({ host: listen.host, port: listen.port });
      } catch (err) {
        // Another process has the port (a second demo, another service): the configuration's
        // problem, said in one line, not an internal error.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EADDRNOTAVAIL' && code !== 'EACCES') throw err;
        const why = {
          EADDRINUSE: 'is in use by another process',
          EADDRNOTAVAIL: 'is not an address of this host',
          EACCES: 'needs privileges this user does not have',
        }[code];
        throw new ConfigError([
          {
            file: caretaker.config.file,
            line: 0,
            column: 0,
            path: 'server.listen',
            message: `${listen.host}:${listen.port} ${why}; choose another port (or stop what listens there)`,
          },
        ]);
      }
      servers.push(api);
      http = `${https ? 'https' : 'http'}://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
      logger.info(
        `API on ${http}: every request but /healthz needs a token (caretaker token create)${process.env[tokenEnv] ? `; $${tokenEnv} is accepted as a legacy admin token` : ''}`,
      );
    } else if (tls)
      logger.warn('server.tls is set but server.listen is not: there is no TCP API to serve over HTTPS');
    caretaker.updateHolder({
      pid: process.pid,
      host: caretaker.config.host,
      startedAt: caretaker.startedAt ?? Date.now(),
      version: VERSION,
      config: caretaker.config.file,
      socket,
      http,
    });
    // Started: a start-failure incident of earlier attempts is over.
    if (await closeStartFailure(opts.configPath, stateDir))
      logger.info('caretaker started: the start failure of earlier attempts is over');
  } catch (err) {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
    await caretaker.stop(0);
    throw err;
  }

  logger.info(
    { socket, config: caretaker.config.file },
    `caretaker ${VERSION} is running with ${plural(caretaker.config.tasks.length, 'task')}`,
  );
  opts.onReady?.({ socket, pid: process.pid });
  const code = await done;
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onInt);
  process.off('SIGHUP', onHup);
  return code;
}
