/**
 * The daemon's heartbeat: state_dir/heartbeat.json is rewritten (atomically) every `every`, with
 * the instant of the scheduler's last pass. `caretaker status` reads it: a daemon whose lock is
 * held but whose heartbeat is old is hung, not healthy. An optional callback (the external
 * heartbeat URL) runs at each beat.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomicSync } from '../os/atomic-write.js';
import type { Clock, TimerHandle } from './clock.js';

export interface HeartbeatRecord {
  readonly at: number;
  readonly pid: number;
  readonly host: string;
  readonly everyMs: number;
  readonly staleAfterMs: number;
  /** The scheduler's last pass over its timers. */
  readonly lastPassAt: number | null;
  /**
   * `at` on the machine's monotonic clock (engine/clock.ts systemMonotonic). A reader judges the
   * age by it, so a wall-clock step forward does not make a live daemon look hung. Absent in
   * records of older versions.
   */
  readonly monoAt?: number;
}

export const heartbeatFile = (stateDir: string) => resolve(stateDir, 'heartbeat.json');

export function readHeartbeat(stateDir: string): HeartbeatRecord | undefined {
  try {
    return JSON.parse(readFileSync(heartbeatFile(stateDir), 'utf8')) as HeartbeatRecord;
  } catch {
    return undefined;
  }
}

/**
 * How long ago the heartbeat was written: by the monotonic clock when the record has it and
 * `monoNow` is given (the same boot: not behind it), else by the wall clock.
 */
export function heartbeatAge(hb: HeartbeatRecord, now: number, monoNow?: number): number {
  if (monoNow !== undefined && typeof hb.monoAt === 'number' && monoNow >= hb.monoAt)
    return monoNow - hb.monoAt;
  return now - hb.at;
}

/** Is this heartbeat older than its own stale limit? */
export function isStale(hb: HeartbeatRecord, now: number, monoNow?: number): boolean {
  return heartbeatAge(hb, now, monoNow) > hb.staleAfterMs;
}

export interface HeartbeatOptions {
  readonly stateDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly host: string;
  readonly everyMs: number;
  readonly staleAfterMs: number;
  readonly lastPassAt: () => number | null;
  /** Called after each beat is written (must not throw; its promise is not awaited by the timer). */
  readonly onBeat?: () => Promise<void>;
}

export class Heartbeat {
  readonly #o: HeartbeatOptions;
  #timer: TimerHandle | null = null;
  #beating: Promise<void> | null = null;

  constructor(opts: HeartbeatOptions) {
    this.#o = opts;
  }

  start(): void {
    this.#beat();
  }

  async stop(): Promise<void> {
    if (this.#timer) this.#o.clock.clearTimer(this.#timer);
    this.#timer = null;
    await this.#beating;
  }

  #beat(): void {
    const { clock, logger } = this.#o;
    const record: HeartbeatRecord = {
      at: clock.now(),
      monoAt: clock.monotonic(),
      pid: process.pid,
      host: this.#o.host,
      everyMs: this.#o.everyMs,
      staleAfterMs: this.#o.staleAfterMs,
      lastPassAt: this.#o.lastPassAt(),
    };
    try {
      writeFileAtomicSync(heartbeatFile(this.#o.stateDir), `${JSON.stringify(record, null, 2)}\n`);
    } catch (err) {
      logger.error({ err }, 'could not write the heartbeat');
    }
    // Skip a beat's callback while the last one is still going (a slow heartbeat URL).
    if (this.#o.onBeat && !this.#beating) {
      this.#beating = this.#o
        .onBeat()
        .catch((err: unknown) => logger.warn({ err }, 'heartbeat callback failed'))
        .finally(() => (this.#beating = null));
    }
    this.#timer = clock.setTimer(() => this.#beat(), this.#o.everyMs);
  }
}
