/**
 * Structured JSON logs (pino) to `state_dir/logs/caretaker.log`, and to the terminal: pretty on
 * a TTY, JSON lines otherwise.
 */
import { openSync } from 'node:fs';
import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { createRequire } from 'node:module';
import type PrettyFactory from 'pino-pretty';
import { StateDirError } from '../errors/state-dir-error.js';
import { makeDirSync, mkdirFailure } from '../os/make-dir.js';

export interface LoggerOptions {
  readonly stateDir: string;
  readonly level: string;
  /** Also log to stdout (foreground daemon). */
  readonly console: boolean;
  /** Values masked ("***") in every line, asked at each line (the config's `*_env` secrets). */
  readonly secrets?: () => readonly string[];
}

/** A line with each secret masked, as it appears raw and as it appears inside a JSON string. */
export function maskLine(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const s of secrets) {
    for (const form of new Set([s, JSON.stringify(s).slice(1, -1)]))
      if (out.includes(form)) out = out.split(form).join('***');
  }
  return out;
}

function prettyStream(): NodeJS.WritableStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PrettyFactory;
  return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
}

/** `state_dir/logs`, created when missing. */
export function prepareLogDir(stateDir: string): string {
  const dir = resolve(stateDir, 'logs');
  try {
    makeDirSync(dir);
  } catch (err) {
    throw new StateDirError(`cannot create the log directory ${dir}: ${mkdirFailure(err)}`);
  }
  return dir;
}

/** Log lines held while the log file cannot be written (a full disk); beyond, they are dropped. */
const HELD_LOG_BYTES = 1024 * 1024;

/**
 * The log file. Opened here, synchronously: a destination that opens its file itself is "not
 * ready" for a moment (a daemon refused at start crashed with "sonic boom is not ready yet").
 * Written synchronously: an asynchronous one flushes at process exit in a loop that retries a
 * failed write forever, so a daemon whose disk filled could neither stop nor go on. A failed
 * write (ENOSPC) is said once on stderr; the lines wait (bounded) and go out when it can write.
 */
export function logFile(file: string, say: (line: string) => void): pino.DestinationStream {
  const dest = pino.destination({ dest: openSync(file, 'a'), sync: true, maxLength: HELD_LOG_BYTES });
  let failing = false;
  let dropped = 0;
  dest.on('error', (err: NodeJS.ErrnoException) => {
    if (failing) return;
    failing = true;
    say(
      `caretaker: cannot write the log file ${file} (${err.code ?? err.message}); log lines are held (up to 1 MiB) and written when it can`,
    );
  });
  dest.on('drop', () => dropped++);
  dest.on('write', () => {
    if (!failing) return;
    failing = false;
    say(
      `caretaker: the log file ${file} is writable again${dropped > 0 ? `; ${dropped} log lines could not be held and are lost` : ''}`,
    );
    dropped = 0;
  });
  return dest;
}

export function createLogger(opts: LoggerOptions): Logger {
  const dir = prepareLogDir(opts.stateDir);
  const secrets = opts.secrets;
  const streams: pino.StreamEntry[] = [
    {
      level: opts.level as pino.Level,
      stream: logFile(resolve(dir, 'caretaker.log'), (line) => void process.stderr.write(`${line}\n`)),
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
    {
      level: opts.level,
      base: { pid: process.pid },
      redact: ['*.token', '*.password', '*.secret'],
      // A task's error or an action's message may quote a secret: the log file never holds it.
      ...(secrets ? { hooks: { streamWrite: (line: string) => maskLine(line, secrets()) } } : {}),
    },
    pino.multistream(streams),
  );
}
