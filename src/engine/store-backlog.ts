/**
 * A scheduler whose history disk fills up keeps going. A write the store refuses with
 * StoreFullError is kept here, in memory and in order (bounded), and answered as if it was made:
 * a new run or delivery gets a provisional (negative) id, a finished run its final record, so
 * the engine keeps scheduling, alerts still go out and `run-task --wait` still hears the
 * outcome. The backlog is written, ids mapped to the real ones, once space returns (retried on
 * a timer and before every later write). One line per incident says what cannot be recorded,
 * one alert goes through the channels, and one line says when it was written.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.js';
import { StoreFullError } from '../store/store-full-error.js';
import type { IncidentRecord, NewRun, RunFinish, RunQuery, RunRecord, Store } from '../store/types.js';

export interface StoreBacklogOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** One line to a person (the daemon's stderr). */
  readonly say: (line: string) => void;
  /** Told once per incident (through the alert channels); must not throw. */
  readonly alert: (message: string) => void;
  /** How often a waiting backlog is tried again. @default 30s */
  readonly retryEveryMs?: number;
  /** Writes kept at most; beyond, the oldest go (and are counted). @default 10,000 */
  readonly maxWrites?: number;
}

interface Write {
  readonly method: Deferred;
  readonly args: unknown[];
  /** The provisional id this write's answer was given. */
  readonly provisional?: number;
}

/**
 * Fleet writes (registerHost, heartbeat, claimSlot, takeOver, …) are deliberately not here: a
 * claim answered from memory would be a claim no other host can see, so they reach the store
 * and fail loudly when it cannot take them, like every read.
 */
const DEFERRED = [
  'insertRun',
  'startRun',
  'finishRun',
  'setChildProcess',
  'setNotBefore',
  'claimFire',
  'recordSamples',
  'saveIncident',
  'insertDelivery',
  'updateDelivery',
  'recordPing',
  'setMeta',
] as const;
type Deferred = (typeof DEFERRED)[number];

/** Writes whose first argument is the id of something an earlier write may have created. */
const BY_ID: readonly Deferred[] = [
  'startRun',
  'finishRun',
  'setChildProcess',
  'setNotBefore',
  'updateDelivery',
];

export class StoreBacklog {
  readonly #store: Store;
  readonly #o: StoreBacklogOptions;
  #writes: Write[] = [];
  #dropped = 0;
  #nextId = -1;
  readonly #realId = new Map<number, number>();
  /** The latest record of runs with writes waiting (the answer to reads meanwhile). */
  readonly #runs = new Map<number, RunRecord>();
  readonly #incidents = new Map<string, IncidentRecord>();
  #since: number | null = null;
  #timer: TimerHandle | null = null;
  #flushing: Promise<boolean> | null = null;
  /** The store as the rest of caretaker uses it. */
  readonly store: Store;

  constructor(store: Store, opts: StoreBacklogOptions) {
    this.#store = store;
    this.#o = opts;
    this.store = this.#wrap();
  }

  /** Writes waiting for space. */
  get waiting(): number {
    return this.#writes.length;
  }

  get full(): boolean {
    return this.#since !== null;
  }

  #wrap(): Store {
    const overrides: Partial<Record<keyof Store, unknown>> = {
      getRun: async (id: number) => this.#runs.get(id) ?? this.#store.getRun(this.#realId.get(id) ?? id),
      listRuns: (q: RunQuery) => this.#listRuns(q),
      openIncident: async (key: string) => this.#incidents.get(key) ?? this.#store.openIncident(key),
      // Deferred work and pruning wait while the disk is full: they only need more space.
      housekeep: async () => (this.full ? undefined : this.#store.housekeep?.()),
      prune: async (o: Parameters<Store['prune']>[0]) =>
        this.full ? { runsDeleted: 0, statsDeleted: 0 } : this.#store.prune(o),
      close: () => this.close(),
      attachRun: (task: string, slot: number, instance: string, runId: number) =>
        this.#attachRun(task, slot, instance, runId),
    };
    for (const m of DEFERRED) overrides[m] = (...args: unknown[]) => this.#write(m, args);
    return new Proxy(this.#store, {
      get: (target, prop, receiver) => {
        if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof Store];
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /** A run kept in memory has no id another host could read: its claim is refused loudly. */
  async #attachRun(task: string, slot: number, instance: string, runId: number): Promise<void> {
    const id = runId < 0 ? this.#realId.get(runId) : runId;
    if (id === undefined)
      throw new Error(
        `run #${runId} of ${task} is not in the history yet (it cannot be written), so it cannot be recorded on the task's cluster claim`,
      );
    return this.#store.attachRun(task, slot, instance, id);
  }

  async #write(method: Deferred, args: unknown[]): Promise<unknown> {
    // Order is kept: nothing is written past writes still waiting.
    if (this.#writes.length > 0) await this.flush();
    if (this.#writes.length === 0) {
      try {
        return await (this.#store[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        if (!(err instanceof StoreFullError)) throw err;
        this.#begin(err);
      }
    }
    return this.#defer(method, args);
  }

  async #defer(method: Deferred, args: unknown[]): Promise<unknown> {
    const provisional =
      ['insertRun', 'insertDelivery'].includes(method) ||
      (method === 'saveIncident' && (args[0] as IncidentRecord).id === 0)
        ? this.#nextId--
        : undefined;
    this.#writes.push({ method, args, provisional });
    if (this.#writes.length > (this.#o.maxWrites ?? 10_000)) {
      this.#writes.shift();
      this.#dropped++;
    }
    switch (method) {
      case 'insertRun': {
        const run = args[0] as NewRun;
        const record: RunRecord = {
          id: provisional!,
          task: run.task,
          host: run.host,
          trigger: run.trigger,
          scheduledFor: run.scheduledFor,
          notBefore: run.notBefore,
          queuedAt: run.queuedAt,
          startedAt: run.startedAt ?? null,
          finishedAt: null,
          status: run.status,
          attempt: run.attempt,
          exitCode: null,
          durationMs: null,
          outputTail: null,
          result: null,
          reason: run.reason ?? null,
          dryRun: run.dryRun,
          pid: run.pid,
          childPgid: null,
          childStarted: null,
        };
        this.#runs.set(record.id, record);
        return record;
      }
      case 'startRun': {
        const [id, startedAt, pid] = args as [number, number, number];
        const run = await this.#known(id);
        if (run) this.#runs.set(id, { ...run, status: 'running', startedAt, pid });
        return undefined;
      }
      case 'finishRun': {
        const [id, f] = args as [number, RunFinish];
        const run = await this.#known(id);
        if (!run) throw new Error(`run #${id} does not exist`);
        const done: RunRecord = {
          ...run,
          status: f.status,
          finishedAt: f.finishedAt,
          startedAt: f.startedAt ?? run.startedAt,
          exitCode: f.exitCode ?? run.exitCode,
          durationMs: f.durationMs ?? run.durationMs,
          outputTail: f.outputTail ?? run.outputTail,
          result: f.result ?? run.result,
          reason: f.reason ?? run.reason,
        };
        this.#runs.set(id, done);
        return done;
      }
      case 'saveIncident': {
        const incident = { ...(args[0] as IncidentRecord) };
        const saved = { ...incident, id: provisional ?? incident.id };
        if (saved.closedAt === null) this.#incidents.set(saved.key, saved);
        else this.#incidents.delete(saved.key);
        return saved;
      }
      case 'insertDelivery':
        return provisional;
      default:
        return undefined;
    }
  }

  async #known(id: number): Promise<RunRecord | undefined> {
    return this.#runs.get(id) ?? (await this.#store.getRun(this.#realId.get(id) ?? id));
  }

  async #listRuns(q: RunQuery): Promise<RunRecord[]> {
    const stored = await this.#store.listRuns(q);
    if (this.#runs.size === 0) return stored;
    const real = new Map([...this.#realId].map(([p, r]) => [r, p]));
    const shown = stored.map((r) => this.#runs.get(real.get(r.id) ?? r.id) ?? r);
    const fresh = [...this.#runs.values()].filter(
      (r) =>
        r.id < 0 &&
        !this.#realId.has(r.id) &&
        (q.task === undefined || r.task === q.task) &&
        (q.host === undefined || r.host === q.host) &&
        (q.statuses === undefined || q.statuses.includes(r.status)),
    );
    // The unrecorded runs are the newest ones.
    return [...fresh.sort((a, b) => a.id - b.id), ...shown].slice(0, q.limit);
  }

  #begin(err: StoreFullError): void {
    if (this.#since !== null) return;
    this.#since = this.#o.clock.now();
    const line = `the history cannot be written (${err.message}); run results are kept in memory (up to ${this.#o.maxWrites ?? 10_000} writes) and recorded when space returns`;
    this.#o.say(`caretaker: ${line}`);
    this.#o.logger.error({ code: err.code }, line);
    this.#o.alert(
      `caretaker cannot write its history: ${err.message}. Runs go on; their results are recorded when space returns.`,
    );
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) this.#o.clock.clearTimer(this.#timer);
    this.#timer = this.#o.clock.setTimer(() => {
      this.#timer = null;
      void this.flush().then((done) => {
        if (!done && this.#since !== null) this.#arm();
      });
    }, this.#o.retryEveryMs ?? 30_000);
  }

  /** Writes what waits, in order; true once nothing waits. */
  flush(): Promise<boolean> {
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  async #flush(): Promise<boolean> {
    let written = 0;
    while (this.#writes.length > 0) {
      const w = this.#writes[0]!;
      const args = this.#mapped(w);
      if (!args) {
        // It refers to something whose creation was dropped from a full backlog.
        this.#writes.shift();
        this.#dropped++;
        continue;
      }
      try {
        const out = await (this.#store[w.method] as (...a: unknown[]) => Promise<unknown>)(...args);
        if (w.provisional !== undefined)
          this.#realId.set(w.provisional, typeof out === 'number' ? out : (out as { id: number }).id);
        this.#writes.shift();
        written++;
      } catch (err) {
        if (err instanceof StoreFullError) return false;
        this.#writes.shift();
        this.#dropped++;
        this.#o.logger.error(
          { err, write: w.method },
          'a write kept while the history was full failed; dropped',
        );
      }
    }
    if (this.#since !== null) {
      const dropped = this.#dropped > 0 ? `; ${this.#dropped} could not be kept and are lost` : '';
      const line = `the history is writable again: ${written} kept write${written === 1 ? '' : 's'} recorded${dropped}`;
      this.#o.say(`caretaker: ${line}`);
      this.#o.logger.warn(line);
    }
    this.#since = null;
    this.#dropped = 0;
    this.#runs.clear();
    this.#incidents.clear();
    this.#realId.clear();
    if (this.#timer) this.#o.clock.clearTimer(this.#timer);
    this.#timer = null;
    return true;
  }

  /** The write's arguments with provisional ids replaced by real ones; null if one is unknown. */
  #mapped(w: Write): unknown[] | null {
    const real = (id: number | null) => (id === null || id >= 0 ? id : (this.#realId.get(id) ?? null));
    const args = [...w.args];
    if (BY_ID.includes(w.method)) {
      const id = real(args[0] as number);
      if (id === null) return null;
      args[0] = id;
    } else if (w.method === 'saveIncident') {
      const inc = args[0] as IncidentRecord;
      const id = inc.id === 0 ? 0 : real(inc.id);
      if (id === null) return null;
      args[0] = { ...inc, id };
    } else if (w.method === 'insertDelivery') {
      const d = args[0] as { incidentId: number | null };
      const incidentId = real(d.incidentId);
      args[0] = { ...d, incidentId: d.incidentId !== null && incidentId === null ? null : incidentId };
    }
    return args;
  }

  /** Writes what it can before the store closes; says what is lost if the disk is still full. */
  async close(): Promise<void> {
    if (this.#timer) this.#o.clock.clearTimer(this.#timer);
    this.#timer = null;
    if (this.#writes.length > 0 && !(await this.flush()))
      this.#o.say(
        `caretaker: ${this.#writes.length} history write${this.#writes.length === 1 ? '' : 's'} could not be recorded (the disk is still full) and ${this.#writes.length === 1 ? 'is' : 'are'} lost`,
      );
    try {
      await this.#store.close();
    } catch (err) {
      // The closing checkpoint needs space too; what was written stays in the write-ahead log.
      if (!(err instanceof StoreFullError)) throw err;
      this.#o.logger.warn(
        { code: err.code },
        'the history was closed without its last checkpoint (disk full)',
      );
    }
  }
}
