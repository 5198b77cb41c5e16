/**
 * The run ledger: everything that writes runs to the store, and the engine's view of them.
 * Every fire becomes exactly one row (queued, or skipped with a reason) and the task's last
 * claimed fire moves in the same transaction; a run's start and end are recorded here, and its
 * final state is told to listeners, to waiters and to the cycle results `depends_on` reads.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Config, TaskConfig } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import type { Progress } from '../actions/types.js';
import { RunWaiters } from './run-waiters.js';
import type {
  HostRecord,
  NewRun,
  RunFinish,
  RunRecord,
  RunTrigger,
  StartGuard,
  Store,
} from '../store/types.js';

export interface RunFinishedInfo {
  /** The run failed and a retry of it is queued: not the cycle's final word yet. */
  readonly retrying: boolean;
}

export interface EngineEvents {
  'run:queued': [RunRecord];
  'run:started': [RunRecord];
  'run:finished': [RunRecord, RunFinishedInfo];
  /** A scheduled run was skipped because it could not start by its starting_deadline. */
  'run:missed': [RunRecord];
  'run:progress': [{ runId: number; task: string } & Progress];
  /** A piece of a running run's output, as it is written. */
  'run:output': [{ runId: number; task: string; text: string }];
  /** A host of the fleet went silent past its lease (told by one host of the fleet, once). */
  'host:lost': [HostRecord];
  /** A host reported lost heartbeats again (or stopped cleanly). */
  'host:back': [HostRecord];
  error: [Error];
}

export interface Queued {
  run: RunRecord;
  readyAt: number;
}

export interface NewQueuedRun {
  readonly trigger: RunTrigger;
  readonly scheduledFor: number | null;
  readonly notBefore: number;
  readonly attempt: number;
  readonly reason: string | null;
}

export interface RunLedgerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pid: number;
  /** The current configuration (its host), which a reload swaps. */
  config(): Config;
  readonly events: EventEmitter<EngineEvents>;
}

/** Dependencies only look at recent cycles: past this many, keep the newest half. */
const MAX_CYCLES = 20_000;

export class RunLedger {
  /** Runs waiting to start, by id. */
  readonly queue = new Map<number, Queued>();
  /** Final status of each (task, fire) cycle, for depends_on. */
  readonly #cycles = new Map<string, { status: RunRecord['status']; runId: number }>();
  readonly #waiters: RunWaiters;

  constructor(private readonly d: RunLedgerDeps) {
    this.#waiters = new RunWaiters((id) => d.store.getRun(id));
  }

  get #host(): string {
    return this.d.config().host;
  }

  /** The final word on a (task, fire) cycle, once it has one. */
  cycle(task: string, fire: number | null): { status: RunRecord['status']; runId: number } | undefined {
    return this.#cycles.get(`${task}@${fire}`);
  }

  /** Loads the cycles of recent finished scheduled runs (at start). */
  async loadCycles(): Promise<void> {
    for (const run of await this.d.store.listRuns({ limit: 1000, host: this.#host })) {
      if (run.scheduledFor !== null && run.finishedAt !== null) this.#rememberCycle(run);
    }
  }

  /** Records a queued run and holds it in the queue. */
  async enqueue(task: TaskConfig, r: NewQueuedRun): Promise<RunRecord> {
    const run = await this.insertQueued(task, r);
    this.hold(run, r.notBefore);
    return run;
  }

  /** Records these queued runs in one write and holds them in the queue. */
  async enqueueMany(runs: readonly { task: TaskConfig; run: NewQueuedRun }[]): Promise<RunRecord[]> {
    const records = await this.d.store.insertRuns(runs.map(({ task, run }) => this.#newQueued(task, run)));
    records.forEach((record, i) => this.hold(record, runs[i]!.run.notBefore));
    return records;
  }

  /** Holds a recorded queued run in the queue (see insertQueued). */
  hold(run: RunRecord, readyAt: number): void {
    this.queue.set(run.id, { run, readyAt });
    this.d.events.emit('run:queued', run);
  }

  /** Records a queued run without holding it yet: the caller decides first whether it may wait. */
  async insertQueued(task: TaskConfig, r: NewQueuedRun): Promise<RunRecord> {
    return this.d.store.insertRun(this.#newQueued(task, r));
  }

  #newQueued(task: TaskConfig, r: NewQueuedRun): NewRun {
    return {
      task: task.id,
      host: this.#host,
      trigger: r.trigger,
      scheduledFor: r.scheduledFor,
      notBefore: r.notBefore,
      queuedAt: this.d.clock.now(),
      status: 'queued',
      attempt: r.attempt,
      dryRun: false,
      pid: this.d.pid,
      reason: r.reason,
      claimFire: r.trigger === 'schedule' || r.trigger === 'catch-up',
    };
  }

  /** Records a dry run as running at once (it blocks nothing and is never queued). */
  async insertDryRun(task: TaskConfig, now: number): Promise<RunRecord> {
    return this.d.store.insertRun({
      task: task.id,
      host: this.#host,
      trigger: 'manual',
      scheduledFor: null,
      notBefore: now,
      queuedAt: now,
      status: 'running',
      startedAt: now,
      attempt: 1,
      dryRun: true,
      pid: this.d.pid,
    });
  }

  /**
   * Records a schedule fire that will not run, with the reason, and claims the fire. `missed`:
   * it stands for scheduled runs missed (counted as such in the lifetime totals). `quiet`: a skip
   * a person asked for (a paused task's slots) is logged at debug, not as a warning each.
   */
  async skipFire(
    task: TaskConfig,
    fire: number,
    reason: string,
    opts: { missed?: boolean; quiet?: boolean } = {},
  ): Promise<RunRecord> {
    const now = this.d.clock.now();
    const run = await this.d.store.insertRun({
      task: task.id,
      host: this.#host,
      trigger: 'schedule',
      scheduledFor: fire,
      notBefore: null,
      queuedAt: now,
      status: 'skipped',
      attempt: 1,
      dryRun: false,
      pid: this.d.pid,
      reason,
      claimFire: true,
    });
    const final = await this.d.store.finishRun(run.id, {
      status: 'skipped',
      finishedAt: now,
      reason,
      missed: opts.missed === true,
    });
    this.d.logger[opts.quiet ? 'debug' : 'warn'](
      { task: task.id, run: run.id },
      `${task.id} skipped: ${reason}`,
    );
    this.settled(final);
    return final;
  }

  /**
   * Starts a queued run only if the fleet-wide guards hold (see Store.startRunGuarded); null
   * when they do not: it stays queued.
   */
  async startGuarded(q: Queued, now: number, guards: readonly StartGuard[]): Promise<RunRecord | null> {
    if (!(await this.d.store.startRunGuarded(q.run.id, now, this.d.pid, guards))) return null;
    this.queue.delete(q.run.id);
    return { ...q.run, status: 'running', startedAt: now, pid: this.d.pid };
  }

  /** Records these queued runs as started (one write) and takes them out of the queue. */
  async startMany(qs: readonly Queued[], now: number): Promise<RunRecord[]> {
    await this.d.store.startRuns(
      qs.map((q) => q.run.id),
      now,
      this.d.pid,
    );
    return qs.map((q) => {
      this.queue.delete(q.run.id);
      return { ...q.run, status: 'running', startedAt: now, pid: this.d.pid };
    });
  }

  /** Ends a queued run without running it (`missed`: see skipFire). */
  async finishQueued(
    q: Queued,
    status: 'cancelled' | 'skipped',
    reason: string,
    missed = false,
  ): Promise<RunRecord> {
    this.queue.delete(q.run.id);
    const final = await this.d.store.finishRun(q.run.id, {
      status,
      finishedAt: this.d.clock.now(),
      reason,
      missed,
    });
    this.d.logger.warn({ task: q.run.task, run: q.run.id }, `${q.run.task} ${status}: ${reason}`);
    this.settled(final);
    return final;
  }

  /** Records a run's end (the caller settles it once follow-ups such as a retry are decided). */
  finish(runId: number, finish: RunFinish): Promise<RunRecord> {
    this.#waiters.settling(runId);
    return this.d.store.finishRun(runId, finish);
  }

  /** Records and settles a run that ended outside its action (an internal error, a dead process). */
  async finishAndSettle(runId: number, finish: RunFinish): Promise<RunRecord> {
    const final = await this.d.store.finishRun(runId, finish);
    this.settled(final);
    return final;
  }

  /**
   * A run reached its final state: remember its cycle, tell listeners and waiters (`retry`: the
   * run queued to retry it, which waiters that follow retries move on to).
   */
  settled(run: RunRecord, final = true, retry?: RunRecord): void {
    if (final && run.scheduledFor !== null) this.#rememberCycle(run);
    this.d.events.emit('run:finished', run, { retrying: !final });
    this.#waiters.settled(run, retry);
  }

  /** Resolves with the run's final record (with `followRetries`, its last retry's) once it finished. */
  waitFor(runId: number, followRetries = false): Promise<RunRecord> {
    return this.#waiters.wait(runId, followRetries);
  }

  /** Dependencies only look at recent cycles; keep the newest 10,000 (a Map keeps insertion order). */
  forgetOldCycles(): void {
    if (this.#cycles.size <= MAX_CYCLES) return;
    let drop = this.#cycles.size - MAX_CYCLES / 2;
    for (const key of this.#cycles.keys()) {
      if (drop-- <= 0) break;
      this.#cycles.delete(key);
    }
  }

  #rememberCycle(run: RunRecord): void {
    this.#cycles.set(`${run.task}@${run.scheduledFor}`, { status: run.status, runId: run.id });
  }
}
