/**
 * A scheduler whose history disk fills up, or whose PostgreSQL store goes away, keeps going. A
 * write the store refuses with StoreFullError or StoreUnavailableError is kept here, in order
 * (bounded), and answered as if it was made:
 * a new run or delivery gets a provisional (negative) id, a finished run its final record, so
 * the engine keeps scheduling, alerts still go out and `run-task --wait` still hears the
 * outcome. The backlog is written, ids mapped to the real ones, once space returns (retried on
 * a timer and before every later write). One line per incident says what cannot be recorded,
 * one alert goes through the channels, and one line says when it was written.
 *
 * An unreachable store differs in three ways. Its writes are also spooled to a SQLite file under
 * the state dir (store/write-spool.ts), so a restart during the outage loses nothing; each is
 * replayed once, marked applied in the same PostgreSQL transaction (PgStore.applyOnce). Reads do
 * not wait for it: they answer from the last answers and what is waiting here (degraded-reads.ts),
 * logged once per kind of read. And it is an incident (`store_unavailable`) only once it has
 * lasted the grace period; it closes with a recovery when the writes are in. `reachable` (see
 * StoreHealth) tells the engine not to claim cluster tasks meanwhile.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { StoreFullError } from '../store/store-full-error.js';
import { StoreUnavailableError } from '../store/store-unavailable-error.js';
import type { IncidentRecord, NewRun, RunQuery, RunRecord, Store } from '../store/types.js';
import type { WriteSpool } from '../store/write-spool.js';
import { BacklogView } from './backlog-view.js';
import { DegradedReads, READS } from './degraded-reads.js';
import type { StoreHealth } from './store-health.js';

export interface StoreBacklogOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** One line to a person (the daemon's stderr). */
  readonly say: (line: string) => void;
  /** Told once per incident (through the alert channels); must not throw. */
  readonly alert: (message: string) => void;
  /** How often a waiting backlog is tried again. @default 30s */
  readonly retryEveryMs?: number;
  /** Writes kept at most; beyond, the oldest go (and are counted). @default 10,000 (100,000 spooled) */
  readonly maxWrites?: number;
  /** How often an unreachable store is tried again. @default 5s */
  readonly reconnectEveryMs?: number;
  /** Where writes wait durably while the store is unreachable (a PostgreSQL store). */
  readonly spool?: WriteSpool;
  /** The store as named in messages (password masked). @default 'the store' */
  readonly storeLabel?: string;
  /** How long the store may be unreachable before the incident opens. @default 60s */
  readonly unavailableGraceMs?: number;
  /** The `store_unavailable` incident, through the alerting; must not throw. */
  readonly incident?: { open(message: string): void; close(message: string): void };
}

interface Write {
  readonly method: Deferred;
  readonly args: unknown[];
  /** The provisional id this write's answer was given. */
  readonly provisional?: number;
  /** Its number in the spool (spooled writes only). */
  readonly seq?: number;
}

type Cause = 'full' | 'unavailable';

function causeOf(err: unknown): Cause | null {
  if (err instanceof StoreFullError) return 'full';
  if (err instanceof StoreUnavailableError) return 'unavailable';
  return null;
}

/** A store that can mark a write applied in the write's own transaction (PgStore). */
interface ApplyOnce {
  applyOnce<T>(key: string, write: () => Promise<T>): Promise<{ applied: boolean; result: T }>;
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

export class StoreBacklog implements StoreHealth {
  readonly #store: Store;
  readonly #o: StoreBacklogOptions;
  #writes: Write[] = [];
  #dropped = 0;
  #nextId = -1;
  /** What is known that the store does not yet know (the answer to reads meanwhile). */
  readonly #view = new BacklogView();
  #since: number | null = null;
  #cause: Cause | null = null;
  #timer: TimerHandle | null = null;
  #grace: TimerHandle | null = null;
  #raised = false;
  #flushing: Promise<boolean> | null = null;
  readonly #reads = new DegradedReads();
  readonly #listeners = new Set<(reachable: boolean) => void>();
  /** The store as the rest of caretaker uses it. */
  readonly store: Store;

  constructor(store: Store, opts: StoreBacklogOptions) {
    this.#store = store;
    this.#o = opts;
    this.store = this.#wrap();
    if (opts.spool) {
      // Writes spooled by an earlier process (a restart during an outage) come first.
      const { writes, realIds, lowestId } = opts.spool.load();
      for (const w of writes) this.#writes.push({ ...w, method: w.method as Deferred });
      for (const [p, r] of realIds) this.#view.mapId(p, r);
      this.#nextId = Math.min(-1, lowestId - 1);
    }
  }

  get #maxWrites(): number {
    return this.#o.maxWrites ?? (this.#o.spool ? 100_000 : 10_000);
  }

  get #label(): string {
    return this.#o.storeLabel ?? 'the store';
  }

  // ---- StoreHealth ------------------------------------------------------------------------------

  get reachable(): boolean {
    return this.#cause !== 'unavailable';
  }

  get unreachableSince(): number | null {
    return this.#cause === 'unavailable' ? this.#since : null;
  }

  onChange(fn: (reachable: boolean) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(reachable: boolean): void {
    for (const fn of this.#listeners) {
      try {
        fn(reachable);
      } catch (err) {
        this.#o.logger.error({ err }, 'a store reachability listener failed');
      }
    }
  }

  /** Writes waiting for space. */
  get waiting(): number {
    return this.#writes.length;
  }

  /** The store refuses writes (full or unreachable). */
  get full(): boolean {
    return this.#since !== null;
  }

  #wrap(): Store {
    const overrides: Partial<Record<keyof Store, unknown>> = {};
    for (const m of READS) overrides[m] = (...args: unknown[]) => this.#read(m, args);
    Object.assign(overrides, {
      getRun: async (id: number) => this.#view.waitingRun(id) ?? this.#read('getRun', [this.#view.real(id)]),
      listRuns: async (q: RunQuery) =>
        this.#view.listRuns((await this.#read('listRuns', [q])) as RunRecord[], q),
      activeRuns: async (host: string) =>
        this.#view.activeRuns((await this.#read('activeRuns', [host])) as RunRecord[], host),
      openIncident: async (key: string) => {
        const known = this.#view.openIncident(key);
        return known === null ? undefined : (known ?? this.#read('openIncident', [key]));
      },
      listIncidents: async (q: Parameters<Store['listIncidents']>[0]) =>
        this.#view.listIncidents((await this.#read('listIncidents', [q])) as IncidentRecord[], q),
      // Deferred work and pruning wait while writes wait: they only need more space, or the server.
      housekeep: async () => (this.full ? undefined : this.#store.housekeep?.()),
      prune: async (o: Parameters<Store['prune']>[0]) =>
        this.full ? { runsDeleted: 0, statsDeleted: 0 } : this.#store.prune(o),
      close: () => this.close(),
      attachRun: (task: string, slot: number, instance: string, runId: number) =>
        this.#attachRun(task, slot, instance, runId),
      startRuns: (ids: readonly number[], startedAt: number, pid: number) =>
        this.#startRuns(ids, startedAt, pid),
      insertRuns: (runs: readonly NewRun[]) => this.#insertRuns(runs),
    });
    for (const m of DEFERRED) overrides[m] = (...args: unknown[]) => this.#write(m, args);
    return new Proxy(this.#store, {
      get: (target, prop, receiver) => {
        if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof Store];
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /**
   * Starts in one write when nothing waits (ids the store knows, none provisional); otherwise, or
   * when that write cannot be made, each start is a write of its own in the backlog's order.
   */
  async #startRuns(ids: readonly number[], startedAt: number, pid: number): Promise<void> {
    if (this.#writes.length === 0 && this.#cause === null && ids.every((id) => id >= 0)) {
      try {
        await this.#store.startRuns(ids, startedAt, pid);
        for (const id of ids) this.#view.saw('startRun', [id, startedAt, pid], undefined);
        return;
      } catch (err) {
        const cause = causeOf(err);
        if (!cause) throw err;
        // Nothing of it was written (one transaction): each start waits like every write.
        this.#begin(cause, err as StoreFullError | StoreUnavailableError);
      }
    }
    for (const id of ids) await this.#write('startRun', [id, startedAt, pid]);
  }

  /** As #startRuns: one write when nothing waits, else each insert in the backlog's order. */
  async #insertRuns(runs: readonly NewRun[]): Promise<RunRecord[]> {
    if (this.#writes.length === 0 && this.#cause === null) {
      try {
        const out = await this.#store.insertRuns(runs);
        out.forEach((run, i) => this.#view.saw('insertRun', [runs[i]], run));
        return out;
      } catch (err) {
        const cause = causeOf(err);
        if (!cause) throw err;
        this.#begin(cause, err as StoreFullError | StoreUnavailableError);
      }
    }
    const out: RunRecord[] = [];
    for (const run of runs) out.push((await this.#write('insertRun', [run])) as RunRecord);
    return out;
  }

  /** A run kept in memory has no id another host could read: its claim is refused loudly. */
  async #attachRun(task: string, slot: number, instance: string, runId: number): Promise<void> {
    const id = runId < 0 ? this.#view.realOf(runId) : runId;
    if (id === undefined)
      throw new Error(
        `run #${runId} of ${task} is not in the history yet (it cannot be written), so it cannot be recorded on the task's cluster claim`,
      );
    return this.#store.attachRun(task, slot, instance, id);
  }

  async #call(method: string, args: unknown[]): Promise<unknown> {
    return (this.#store[method as keyof Store] as (...a: unknown[]) => Promise<unknown>)(...args);
  }

  async #write(method: Deferred, args: unknown[]): Promise<unknown> {
    // Order is kept: nothing is written past writes still waiting. An unreachable store is tried
    // on the reconnect timer only: a write does not wait for a connection that will not come.
    if (this.#writes.length > 0 && this.#cause !== 'unavailable') await this.flush();
    if (this.#writes.length === 0 && this.#cause !== 'unavailable') {
      try {
        // A run created while writes waited has a provisional id the engine still uses.
        const mapped = this.#mapped({ method, args }) ?? args;
        const out = await this.#call(method, mapped);
        this.#view.saw(method, args, out);
        return out;
      } catch (err) {
        const cause = causeOf(err);
        if (!cause) throw err;
        this.#begin(cause, err as StoreFullError | StoreUnavailableError);
      }
    }
    return this.#defer(method, args);
  }

  /** A read: from the store, or (unreachable) from what is known; never waits for the server. */
  async #read(method: keyof Store, args: unknown[]): Promise<unknown> {
    if (this.#cause !== 'unavailable') {
      try {
        const answer = await this.#call(method, args);
        // Only a store that can be unreachable needs them (a SQLite file refuses writes, not reads).
        if (this.#o.spool) this.#reads.remember(method, args, answer);
        return answer;
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        this.#begin('unavailable', err);
      }
    }
    const { value, first } = this.#reads.answer(method, args);
    if (first)
      this.#o.logger.warn(
        { read: method },
        `${this.#label} is unreachable: ${method} is answered from what caretaker knows until it returns`,
      );
    return value;
  }

  async #defer(method: Deferred, args: unknown[]): Promise<unknown> {
    const provisional =
      ['insertRun', 'insertDelivery'].includes(method) ||
      (method === 'saveIncident' && (args[0] as IncidentRecord).id === 0)
        ? this.#nextId--
        : undefined;
    this.#writes.push({ method, args, provisional, seq: this.#spooled(method, args, provisional) });
    if (this.#writes.length > this.#maxWrites) {
      const gone = this.#writes.shift()!;
      if (gone.seq !== undefined) this.#spool('done', () => this.#o.spool?.done(gone.seq!));
      this.#dropped++;
    }
    const about =
      method === 'startRun' || method === 'finishRun' ? await this.#known(args[0] as number) : undefined;
    return this.#view.answer(method, args, provisional, about);
  }

  /**
   * Bookkeeping in the spool file, which must not stop the flush: should it fail (the state dir's
   * disk), a write already in PostgreSQL is replayed at the next start as a no-op (its mark).
   */
  #spool(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#o.logger.error(
        { err },
        `the spool could not record a ${what}; a replay will skip what is already written`,
      );
    }
  }

  /** Its place in the durable spool (undefined: none, or the spool cannot be written). */
  #spooled(method: string, args: unknown[], provisional: number | undefined): number | undefined {
    if (!this.#o.spool || this.#cause !== 'unavailable') return undefined;
    try {
      return this.#o.spool.push(method, args, provisional);
    } catch (err) {
      this.#o.logger.error({ err, write: method }, 'could not spool a write; it is kept in memory only');
      return undefined;
    }
  }

  async #known(id: number): Promise<RunRecord | undefined> {
    return (
      this.#view.run(id) ?? ((await this.#read('getRun', [this.#view.real(id)])) as RunRecord | undefined)
    );
  }

  #begin(cause: Cause, err: StoreFullError | StoreUnavailableError): void {
    if (this.#since !== null) {
      // Space came back but the server went (or the other way): the newer reason is the one to tell.
      if (this.#cause === cause) return;
      this.#cause = cause;
      if (cause === 'unavailable') this.#beginUnavailable(err);
      this.#arm();
      return;
    }
    this.#since = this.#o.clock.now();
    this.#cause = cause;
    if (cause === 'unavailable') this.#beginUnavailable(err);
    else this.#beginFull(err);
    this.#arm();
  }

  #beginUnavailable(err: StoreFullError | StoreUnavailableError): void {
    const where = this.#o.spool ? `spooled to ${this.#o.spool.path}` : 'kept in memory';
    const line = `${this.#label} unreachable (${err.code}); host tasks go on, their history is ${where} and written when it returns`;
    this.#o.say(`caretaker: ${line}`);
    this.#o.logger.error({ code: err.code }, line);
    this.#changed(false);
    if (this.#grace) this.#o.clock.clearTimer(this.#grace);
    const graceMs = this.#o.unavailableGraceMs ?? 60_000;
    this.#grace = this.#o.clock.setTimer(() => {
      this.#grace = null;
      if (this.#cause !== 'unavailable' || this.#since === null) return;
      this.#raised = true;
      this.#o.incident?.open(
        `caretaker cannot reach ${this.#label} (${err.code}) since ${new Date(this.#since).toISOString()}; host tasks go on and their history is ${where}; cluster tasks are not claimed until it returns`,
      );
    }, graceMs);
  }

  #beginFull(err: StoreFullError | StoreUnavailableError): void {
    const line = `the history cannot be written (${err.message}); run results are kept in memory (up to ${this.#o.maxWrites ?? 10_000} writes) and recorded when space returns`;
    this.#o.say(`caretaker: ${line}`);
    this.#o.logger.error({ code: err.code }, line);
    this.#o.alert(
      `caretaker cannot write its history: ${err.message}. Runs go on; their results are recorded when space returns.`,
    );
  }

  #arm(): void {
    if (this.#timer) this.#o.clock.clearTimer(this.#timer);
    this.#timer = this.#o.clock.setTimer(
      () => {
        this.#timer = null;
        this.flush()
          .then((done) => {
            if (!done && this.#since !== null) this.#arm();
          })
          .catch((err: unknown) => {
            this.#o.logger.error({ err }, 'writing the backlog failed; trying again later');
            this.#arm();
          });
      },
      this.#cause === 'unavailable' ? (this.#o.reconnectEveryMs ?? 5_000) : (this.#o.retryEveryMs ?? 30_000),
    );
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
        const out = await this.#apply(w, args);
        let mapped: { provisional: number; real: number } | undefined;
        if (w.provisional !== undefined) {
          mapped = {
            provisional: w.provisional,
            real: typeof out === 'number' ? out : (out as { id: number }).id,
          };
          this.#view.mapId(mapped.provisional, mapped.real);
        }
        if (w.seq !== undefined) this.#spool('done', () => this.#o.spool?.done(w.seq!, mapped));
        this.#writes.shift();
        written++;
      } catch (err) {
        const cause = causeOf(err);
        if (cause) {
          this.#begin(cause, err as StoreFullError | StoreUnavailableError);
          return false;
        }
        if (w.seq !== undefined) this.#spool('done', () => this.#o.spool?.done(w.seq!));
        this.#writes.shift();
        this.#dropped++;
        this.#o.logger.error(
          { err, write: w.method },
          'a write kept while the history was full failed; dropped',
        );
      }
    }
    const dropped = this.#dropped > 0 ? `; ${this.#dropped} could not be kept and are lost` : '';
    const writes = `${written} kept write${written === 1 ? '' : 's'} recorded${dropped}`;
    if (this.#cause === 'unavailable') {
      const line = `${this.#label} is reachable again after ${formatDuration(this.#o.clock.now() - this.#since!)}: ${writes}`;
      this.#o.say(`caretaker: ${line}`);
      this.#o.logger.warn(line);
      if (this.#raised) this.#o.incident?.close(line);
    } else if (this.#since !== null) {
      const line = `the history is writable again: ${writes}`;
      this.#o.say(`caretaker: ${line}`);
      this.#o.logger.warn(line);
    } else if (written > 0) {
      this.#o.logger.info(`${writes} (spooled before this start)`);
    }
    const wasUnreachable = this.#cause === 'unavailable';
    this.#since = null;
    this.#cause = null;
    this.#raised = false;
    this.#dropped = 0;
    this.#view.written();
    this.#reads.reset();
    this.#spool('settle', () => this.#o.spool?.settle());
    if (this.#timer) this.#o.clock.clearTimer(this.#timer);
    if (this.#grace) this.#o.clock.clearTimer(this.#grace);
    this.#timer = null;
    this.#grace = null;
    if (wasUnreachable) this.#changed(true);
    return true;
  }

  /** One waiting write; a spooled one is marked applied in its own transaction (see the top). */
  async #apply(w: Write, args: unknown[]): Promise<unknown> {
    const once = this.#store as Partial<ApplyOnce>;
    if (w.seq === undefined || !this.#o.spool || typeof once.applyOnce !== 'function')
      return this.#call(w.method, args);
    const { result } = await once.applyOnce(`${this.#o.spool.spoolId}:${w.seq}`, () =>
      this.#call(w.method, args),
    );
    return result;
  }

  /** The write's arguments with provisional ids replaced by real ones; null if one is unknown. */
  #mapped(w: Write): unknown[] | null {
    const real = (id: number | null) => (id === null || id >= 0 ? id : (this.#view.realOf(id) ?? null));
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

  /** Writes what it can before the store closes; says what is lost (or spooled) if it cannot. */
  async close(): Promise<void> {
    if (this.#timer) this.#o.clock.clearTimer(this.#timer);
    if (this.#grace) this.#o.clock.clearTimer(this.#grace);
    this.#timer = null;
    this.#grace = null;
    if (this.#writes.length > 0 && !(await this.flush())) {
      const n = this.#writes.length;
      const spooled = this.#writes.filter((w) => w.seq !== undefined).length;
      const writes = `${n} history write${n === 1 ? '' : 's'}`;
      this.#o.say(
        spooled === n
          ? `caretaker: ${writes} wait in ${this.#o.spool!.path} and will be written when the store is reachable at the next start`
          : this.#cause === 'unavailable'
            ? `caretaker: ${writes} could not be recorded (${this.#label} is unreachable); ${spooled} of them wait in the spool, the rest are lost`
            : `caretaker: ${writes} could not be recorded (the disk is still full) and ${n === 1 ? 'is' : 'are'} lost`,
      );
    }
    this.#o.spool?.close();
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
