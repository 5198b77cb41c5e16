/**
 * Dead-man watches for jobs outside caretaker: each `watch:` entry expects a ping (`caretaker
 * ping NAME`, or POST /v1/pings/NAME) in time; when none comes, the watch is missed. One timer,
 * armed to the earliest deadline (and capped, like the engine's, to survive a suspend).
 */
import { didYouMean } from '../core/did-you-mean.js';
import { NotFoundError } from '../errors/usage-error.js';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { parseSchedule, type Schedule } from '../core/schedule.js';
import { watchDeadline } from '../core/watch-deadline.js';
import type { WatchConfig } from '../notify/types.js';
import type { PingRecord, Store } from '../store/types.js';
import type { Clock, TimerHandle } from './clock.js';
import { MAX_TIMER_WAIT_MS } from './engine.js';

export type WatchState = 'new' | 'up' | 'failing' | 'missed';

export interface WatchStatus {
  readonly name: string;
  readonly expect: string;
  readonly graceMs: number;
  readonly state: WatchState;
  readonly lastPing: PingRecord | null;
  /** When the watch is missed unless a ping arrives first. */
  readonly deadline: number | null;
  readonly since: number;
}

export interface WatchMiss {
  readonly name: string;
  readonly deadline: number;
  readonly lastPing: PingRecord | null;
  readonly expect: string;
}

export interface DeadManEvents {
  'watch:missed': [WatchMiss];
  'watch:ping': [PingRecord];
}

interface Entry {
  config: WatchConfig;
  expect: Schedule;
  since: number;
  lastPing: PingRecord | null;
  missedAt: number | null;
}

const sinceKey = (name: string) => `watch-since:${name}`;

export class DeadManWatch extends EventEmitter<DeadManEvents> {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #timezone: string;
  #entries = new Map<string, Entry>();
  #timer: TimerHandle | null = null;
  #running = false;

  constructor(opts: { store: Store; clock: Clock; logger: Logger; timezone: string }) {
    super();
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.#timezone = opts.timezone;
  }

  /** Loads the watches (and their last pings) and starts the timer. */
  async start(watches: readonly WatchConfig[]): Promise<void> {
    await this.#load(watches);
    this.#running = true;
    this.#check();
  }

  async reload(watches: readonly WatchConfig[]): Promise<void> {
    await this.#load(watches);
    if (this.#running) this.#check();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  /** Records a ping. A failing ping ("--fail") counts as a report in, and as a failure. */
  async ping(
    name: string,
    ok: boolean,
    opts: { message?: string; source?: string } = {},
  ): Promise<PingRecord> {
    const entry = this.#entries.get(name);
    if (!entry) {
      const names = [...this.#entries.keys()];
      throw new NotFoundError(
        `unknown watch "${name}"${didYouMean(name, names)}; ${names.length ? `watches: ${names.join(', ')}` : 'declare it under watch: in the configuration'}`,
      );
    }
    const ping: PingRecord = {
      name,
      at: this.#clock.now(),
      ok,
      source: opts.source ?? null,
      message: opts.message ?? null,
    };
    await this.#store.recordPing(ping);
    entry.lastPing = ping;
    entry.missedAt = null;
    this.emit('watch:ping', ping);
    if (this.#running) this.#check();
    return ping;
  }

  status(): WatchStatus[] {
    return [...this.#entries.values()].map((e) => {
      const deadline = this.#deadline(e);
      let state: WatchState = e.lastPing === null ? 'new' : e.lastPing.ok ? 'up' : 'failing';
      if (e.missedAt !== null || (deadline !== null && deadline <= this.#clock.now())) state = 'missed';
      return {
        name: e.config.name,
        expect: e.config.expect,
        graceMs: e.config.graceMs,
        state,
        lastPing: e.lastPing,
        deadline,
        since: e.since,
      };
    });
  }

  async #load(watches: readonly WatchConfig[]): Promise<void> {
    const now = this.#clock.now();
    const pings = await this.#store.lastPings();
    const next = new Map<string, Entry>();
    for (const w of watches) {
      let since = Number(await this.#store.getMeta(sinceKey(w.name)));
      if (!Number.isFinite(since) || since <= 0) {
        since = now;
        await this.#store.setMeta(sinceKey(w.name), String(now));
      }
      const prev = this.#entries.get(w.name);
      next.set(w.name, {
        config: w,
        expect: parseSchedule(w.expect, this.#timezone),
        since,
        lastPing: pings.get(w.name) ?? null,
        missedAt: prev && prev.config.expect === w.expect ? prev.missedAt : null,
      });
    }
    this.#entries = next;
  }

  #deadline(e: Entry): number | null {
    return watchDeadline({ expect: e.expect, graceMs: e.config.graceMs }, e.lastPing?.at ?? null, e.since);
  }

  /** Emits what is overdue, then arms the timer to the next deadline. */
  #check(): void {
    if (this.#timer) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    if (!this.#running) return;
    const now = this.#clock.now();
    let next: number | null = null;
    for (const e of this.#entries.values()) {
      if (e.missedAt !== null) continue;
      const deadline = this.#deadline(e);
      if (deadline === null) continue;
      if (deadline <= now) {
        e.missedAt = now;
        this.#logger.warn(
          { watch: e.config.name },
          `watch ${e.config.name}: no ping by ${new Date(deadline).toISOString()}`,
        );
        this.emit('watch:missed', {
          name: e.config.name,
          deadline,
          lastPing: e.lastPing,
          expect: e.config.expect,
        });
      } else if (next === null || deadline < next) next = deadline;
    }
    if (next === null) return;
    this.#timer = this.#clock.setTimer(() => this.#check(), Math.min(next - now, MAX_TIMER_WAIT_MS));
  }
}
