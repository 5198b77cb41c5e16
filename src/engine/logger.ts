/**
 * Structured JSON logs (pino) to `state_dir/logs/caretaker.log`, and to the terminal: pretty on
 * a TTY, JSON lines otherwise.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { createRequire } from 'node:module';
import type PrettyFactory from 'pino-pretty';

export interface LoggerOptions {
  readonly stateDir: string;
  readonly level: string;
  /** Also log to stdout (foreground daemon). */
  readonly console: boolean;
}

function prettyStream(): NodeJS.WritableStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PrettyFactory;
  return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
}

export function createLogger(opts: LoggerOptions): Logger {
  const dir = resolve(opts.stateDir, 'logs');
  mkdirSync(dir, { recursive: true });
  const streams: pino.StreamEntry[] = [
    {
      level: opts.level as pino.Level,
      stream: pino.destination({ dest: resolve(dir, 'caretaker.log'), sync: false, mkdir: true }),
    },
  ];
  if (opts.console) {
    streams.push({
      level: opts.level as pino.Level,
      // pino-pretty loads only when a terminal will show it (it costs memory and start-up).
      stream: process.stdout.isTTY ? prettyStream() : process.stdout,
    });
  }
  return pino(
    { level: opts.level, base: { pid: process.pid }, redact: ['*.token', '*.password', '*.secret'] },
    pino.multistream(streams),
  );
}
