/**
 * The engine: turns schedules into runs and runs into history. One timer is armed for the next
 * due instant; every pass (timer, run finished, run requested, reload) fires what is due, then
 * starts what may start — within the host's concurrency, the task's group, its dependencies and
 * its overlap policy, highest priority first.
 *
 * Every fire becomes exactly one row in the store (queued, or skipped with a reason) and the
 * task's last claimed fire moves in the same transaction, so a restart or reload never runs a
 * fire twice and never loses one: queued rows are picked up again at the next start.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { silentLogger } from './silent-logger.js';
import type { ActionRegistry } from '../actions/registry.js';
import type { DatasetSource } from '../actions/types.js';
import type { Config, TaskConfig } from '../config/types.js';
import { formatDuration } from '../core/duration.js';
import type { PriorityBreakdown } from '../core/priority.js';
import { storeDatasets } from '../report/datasets.js';
import type { RollbackPoints } from '../safety/rollback-points.js';
import { TaskFailedError } from '../errors/task-failed-error.js';
import { isExecution, type RecentRuns, type RunRecord, type RunTrigger, type Store } from '../store/types.js';
import { SystemClock, type Clock, type TimerHandle } from './clock.js';
import { dependencyGate } from './dependency-gate.js';
import { NO_HISTORY, priorityOf } from './priority-input.js';
import { executeRun, RunAbort } from './run-executor.js';
import { decideMissed, decideOverlap, queueFull } from './fire-policy.js';
import { deadlineOf, expiredRuns, orderForStart, planDispatch } from './dispatch-plan.js';
import { processAlive, processStartTime } from '../os/process-identity.js';
import { activeElsewhere, liveRunsOf, recoverRuns, type CrashRecoveryDeps } from './crash-recovery.js';
import { RunLedger, type EngineEvents, type NewQueuedRun, type Queued } from './run-ledger.js';
import { unknownTask } from './unknown-task.js';
import { planRetry } from './retry-policy.js';
import { LATE_AFTER_MS, TaskTimer, type DueFires } from './task-timer.js';
import { FleetMember } from './fleet-member.js';
import { ClusterSlots, allWon, type Won } from './cluster-slots.js';
import type { ClaimRecord, PauseRecord, SlotKey, StartGuard } from '../store/types.js';
import { pausedReason } from './task-pauses.js';
import { ALWAYS_REACHABLE, type StoreHealth } from './store-health.js';

/** Re-check the clock at least this often: survives suspend and wall-clock jumps. */
export const MAX_TIMER_WAIT_MS = 5 * 60_000;
const PRUNE_EVERY_MS = 6 * 3_600_000;
/** Deferred store work (a WAL checkpoint) runs only when the next due instant is this far. */
const IDLE_HOUSEKEEPING_MS = 1_000;
const RECENT_RUNS_WINDOW = 50;
/**
 * Wall time that went back by more than this against monotonic time between two passes is a
 * clock step (an operator's `date -s`, NTP stepping), not scheduling jitter.
 */
export const CLOCK_STEP_TOLERANCE_MS = 2_000;
/** How often a run waiting for another process's run of its task looks again. */
const HELD_ELSEWHERE_POLL_MS = 500;
/** How often a run held by another host of the fleet looks again. */
const FLEET_POLL_MS = 1_000;
/** Runs whose starts are recorded are launched in groups of at most this many (see #dispatch). */
const LAUNCH_BATCH = 32;
/** The scheduled fires of one pass that are recorded together (see #fireDue). */
type FireBatch = { task: TaskConfig; run: NewQueuedRun }[];

export interface EngineOptions {
  readonly config: Config;
  readonly store: Store;
  readonly registry: ActionRegistry;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Recorded on runs this engine executes; liveness of it decides "interrupted" at recovery. */
  readonly pid?: number;
  /** Is a process alive? Injected for tests of crash recovery. */
  readonly isAlive?: (pid: number) => boolean;
  /** The state dir's rollback points, for tasks with `rollback:` and actions' safe changes. */
  readonly rollbacks?: RollbackPoints;
  /** This daemon's id in the fleet (hosts, cluster slot claims). @default a random UUID */
  readonly instance?: string;
  /**
   * Whether the store can be reached (StoreBacklog, for a scheduling PostgreSQL store). Cluster
   * tasks are claimed through the store: none may be claimed while `storeReachable` is false.
   * @default always reachable
   */
  readonly storeHealth?: StoreHealth;
}

export type { EngineEvents, RunFinishedInfo } from './run-ledger.js';

interface FleetCycle {
  readonly active: boolean;
  readonly result: { status: RunRecord['status']; runId: number } | undefined;
}

interface Running {
  run: RunRecord;
  controller: AbortController;
  done: Promise<void>;
}

export class TaskBusyError extends TaskFailedError {
  override name = 'TaskBusyError';
}

export class Engine extends EventEmitter<EngineEvents> {
  #config: Config;
  readonly #store: Store;
  readonly #storeHealth: StoreHealth;
  readonly #registry: ActionRegistry;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #pid: number;
  readonly #datasets: DatasetSource;
  readonly #rollbacks: RollbackPoints | undefined;

  #timers = new Map<string, TaskTimer>();
  readonly #ledger: RunLedger;
  readonly #queue: Map<number, Queued>;
  readonly #recovery: CrashRecoveryDeps;
  readonly #running = new Map<number, Running>();
  readonly #recent = new Map<string, RecentRuns>();
  /** Manual runs asked for without retries (`run-task --no-retry`). */
  readonly #noRetry = new Set<number>();
  readonly #fleet: FleetMember;
  readonly #slots: ClusterSlots;
  /** Paused tasks (`caretaker pause`), as the store last said. */
  #pauses = new Map<string, PauseRecord>();

  #timer: TimerHandle | null = null;
  #scheduling = false;
  #stopping = false;
  #pass: Promise<void> | null = null;
  #passAgain = false;
  #nextPruneAt = 0;
  #startedAt: number | null = null;
  #lastPassAt: number | null = null;
  /**
   * The instant the last dispatch judged readiness at: a queued run that came ready after it
   * (its retry backoff ended while the pass went on) was not looked at, and is waited for.
   */
  #dispatchedAt = -Infinity;
  #lastPassMono: number | null = null;

  constructor(opts: EngineOptions) {
    super();
    this.#config = opts.config;
    this.#store = opts.store;
    this.#storeHealth = opts.storeHealth ?? ALWAYS_REACHABLE;
    this.#registry = opts.registry;
    this.#clock = opts.clock ?? new SystemClock();
    this.#logger = opts.logger ?? silentLogger();
    this.#pid = opts.pid ?? process.pid;
    this.#datasets = storeDatasets(this.#store, this.#clock);
    this.#rollbacks = opts.rollbacks;
    const shared = {
      store: this.#store,
      clock: this.#clock,
      logger: this.#logger,
      pid: this.#pid,
      config: () => this.#config,
    };
    this.#ledger = new RunLedger({ ...shared, events: this });
    this.#queue = this.#ledger.queue;
    this.#recovery = { ...shared, ledger: this.#ledger, isAlive: opts.isAlive ?? processAlive };
    // A store of the host's own (SQLite) has no fleet: only a shared one (PostgreSQL) joins.
    const fleet = opts.store.kind !== 'sqlite';
    this.#fleet = new FleetMember({
      ...shared,
      shared: fleet,
      instance: opts.instance,
      hooks: {
        fence: (c) => this.#fence(c),
        orphaned: (c, t) => this.#takeOver(c, t),
        hostLost: (h) => this.emit('host:lost', h),
        hostBack: (h) => this.emit('host:back', h),
        // A pause made on another host of the fleet holds here within about a second.
        poll: () => this.refreshPauses(),
        asked: (now) => this.#slots.deferredDue(now),
        unclaimed: (asked, unclaimed) => this.#fallbackSlots(asked, unclaimed),
      },
    });
    this.#slots = new ClusterSlots({
      ...shared,
      instance: this.#fleet.instance,
      shared: fleet,
      // An unreachable store (its writes spooled) can grant no claim another host would see.
      canClaim: () => this.#fleet.joined && this.#storeHealth.reachable,
      liveHosts: () => this.#fleet.liveHosts,
    });
    this.on('run:finished', (run, info) => this.#slots.finished(run, info.retrying));
  }

  /** This daemon's id in the fleet. */
  get instance(): string {
    return this.#fleet.instance;
  }

  get config(): Config {
    return this.#config;
  }

  /**
   * False while the store is unreachable: host tasks go on (their history is spooled), but
   * nothing that needs the store to decide — a cluster task's claim — may happen then.
   */
  get storeReachable(): boolean {
    return this.#storeHealth.reachable;
  }

  get startedAt(): number | null {
    return this.#startedAt;
  }

  /** When the scheduler last looked at its timers (the heartbeat reports it). */
  get lastPassAt(): number | null {
    return this.#lastPassAt;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** Recovers from a previous crash, catches up missed runs, and starts scheduling. */
  async start(): Promise<void> {
    if (this.#scheduling) return;
    const now = this.#clock.now();
    this.#stopping = false;
    const adopted = await this.#fleet.join();
    await recoverRuns(this.#recovery, now);
    await this.#dropSlotsTakenOver(adopted);
    await this.refreshPauses();
    const states = await this.#store.taskStates(this.#config.host);
    for (const task of this.#config.tasks) {
      const state = states.get(task.id);
      const timer = new TaskTimer(task, this.#config.host, state?.lastStartedAt ?? null, now);
      this.#timers.set(task.id, timer);
      if (state?.lastFire == null && timer.scheduled) {
        // First sight of this task: it owes nothing from before, but from now on a missed fire counts.
        await this.#store.claimFire(task.id, this.#config.host, now);
        timer.startAfter(now);
      } else {
        timer.startAfter(state?.lastFire ?? now);
      }
    }
    await this.#ledger.loadCycles();
    this.#scheduling = true;
    this.#startedAt = now;
    for (const claim of adopted) await this.#resumeSlot(claim);
    await this.#fireDue(this.#timers.values(), now, 0);
    this.#nextPruneAt = now;
    this.#fleet.startBeating();
    await this.#requestPass();
  }

  /**
   * Stops scheduling; waits for running runs up to `graceMs`, then aborts them (they end as
   * `interrupted`). Queued runs stay queued in the store and start after the next start.
   */
  async stop(graceMs = this.#config.shutdownGraceMs, why = 'caretaker is stopping'): Promise<void> {
    this.#stopping = true;
    this.#scheduling = false;
    if (this.#timer) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    await this.#pass;
    const all = () => Promise.all([...this.#running.values()].map((r) => r.done));
    if (this.#running.size > 0) {
      let graceTimer: TimerHandle | undefined;
      const expired = new Promise<'expired'>((res) => {
        if (graceMs <= 0) res('expired');
        else graceTimer = this.#clock.setTimer(() => res('expired'), graceMs);
      });
      const outcome = await Promise.race([all(), expired]);
      if (graceTimer) this.#clock.clearTimer(graceTimer);
      if (outcome === 'expired') {
        const reason = `${why}; the run did not finish within the shutdown grace (${formatDuration(graceMs)})`;
        for (const r of this.#running.values())
          r.controller.abort(new RunAbort({ kind: 'shutdown', reason }));
        await all();
      }
    }
    await this.#fleet.leave();
    this.#startedAt = null;
  }

  /** Swaps in a new configuration without losing or duplicating pending runs. */
  async reload(config: Config): Promise<void> {
    const now = this.#clock.now();
    const old = this.#timers;
    this.#config = config;
    const states = await this.#store.taskStates(config.host);
    const timers = new Map<string, TaskTimer>();
    for (const task of config.tasks) {
      const prev = old.get(task.id);
      const timer = new TaskTimer(
        task,
        config.host,
        prev?.lastStartedAt ?? states.get(task.id)?.lastStartedAt ?? null,
        now,
      );
      const sameTiming =
        prev &&
        prev.task.schedule?.text === task.schedule?.text &&
        prev.task.timezone === task.timezone &&
        prev.scheduled === timer.scheduled;
      if (sameTiming && prev.pendingFire !== null) {
        timer.pendingFire = prev.pendingFire;
        timer.lastTaken = prev.lastTaken;
        timer.refreshDue();
      } else {
        const lastFire = states.get(task.id)?.lastFire ?? null;
        // A changed schedule starts from now: it owes nothing under its old timing.
        const from = Math.max(lastFire ?? now, now);
        if (timer.scheduled) await this.#store.claimFire(task.id, config.host, from);
        timer.startAfter(from);
      }
      timers.set(task.id, timer);
    }
    this.#timers = timers;
    await this.refreshPauses();
    for (const q of [...this.#queue.values()]) {
      const task = timers.get(q.run.task)?.task;
      if (!task || !task.enabled)
        await this.#ledger.finishQueued(
          q,
          'cancelled',
          `task "${q.run.task}" was removed or disabled by a configuration reload`,
        );
    }
    this.#logger.info({ tasks: config.tasks.length }, 'configuration reloaded');
    await this.#requestPass();
  }

  // ---- queries --------------------------------------------------------------------------------

  /** Upcoming due instants of scheduled tasks, soonest first. */
  upcoming(): { task: string; fireAt: number; dueAt: number }[] {
    return [...this.#timers.values()]
      .filter((t) => t.dueAt !== null && t.pendingFire !== null)
      .map((t) => ({ task: t.task.id, fireAt: t.pendingFire!, dueAt: t.dueAt! }))
      .sort((a, b) => a.dueAt - b.dueAt);
  }

  running(): RunRecord[] {
    return [...this.#running.values()].map((r) => r.run);
  }

  /**
   * Reads the paused tasks from the store (at start, at reload, after a pause or resume made
   * through this process, and every second on a fleet's shared store). A newly paused task's
   * waiting runs are skipped at the next pass; a resumed one's next slot runs as scheduled (the
   * slots it missed were recorded as skipped, so none is owed).
   */
  async refreshPauses(): Promise<void> {
    const next = new Map((await this.#store.listPauses()).map((p) => [p.task, p]));
    const changed: string[] = [];
    for (const [task, p] of next) {
      const before = this.#pauses.get(task);
      if (before && before.at === p.at && before.by === p.by) continue;
      changed.push(task);
      this.#logger.info(
        { task, by: p.by, reason: p.reason },
        `${task} is paused (${pausedReason(p)}): its scheduled runs are skipped until it is resumed`,
      );
    }
    for (const [task, p] of this.#pauses) {
      if (next.has(task)) continue;
      changed.push(task);
      this.#logger.info({ task }, `${task} is resumed (it was ${pausedReason(p)})`);
    }
    this.#pauses = next;
    if (changed.length > 0 && this.#scheduling) await this.#requestPass();
  }

  queued(): RunRecord[] {
    return [...this.#queue.values()].map((q) => q.run);
  }

  async priority(taskId: string): Promise<PriorityBreakdown> {
    const task = this.#task(taskId);
    await this.#loadRecent([taskId]);
    const timer = this.#timers.get(taskId) ?? new TaskTimer(task, this.#config.host, null, this.#clock.now());
    const now = this.#clock.now();
    const waiting = [...this.#queue.values()].find((q) => q.run.task === taskId);
    const dueSince = waiting
      ? (waiting.run.notBefore ?? waiting.run.queuedAt)
      : timer.dueAt !== null && timer.dueAt <= now
        ? timer.dueAt
        : null;
    return priorityOf(this.#config, task, {
      now,
      dueSince,
      periodMs: timer.periodMs,
      recent: this.#recent.get(taskId) ?? NO_HISTORY,
    });
  }

  // ---- running on demand ----------------------------------------------------------------------

  /**
   * Queues a manual run now (windows, cooldowns and dependencies do not apply to it; overlap and
   * retries do, unless `retry: false`). A dry run starts at once and blocks nothing.
   */
  async runNow(taskId: string, opts: { dryRun?: boolean; retry?: boolean } = {}): Promise<RunRecord> {
    const task = this.#task(taskId);
    const now = this.#clock.now();
    if (opts.dryRun) {
      const run = await this.#ledger.insertDryRun(task, now);
      this.#launch(run, task);
      return run;
    }
    if (task.overlap === 'queue') return this.#queueManual(task, now);
    const mine = this.#activeOf(task.id);
    const elsewhere =
      mine.length === 0
        ? ((await activeElsewhere(this.#recovery, task.id)) ?? (await this.#activeElsewhereInFleet(task))[0])
        : undefined;
    const blocker = mine[0]?.run ?? elsewhere;
    if (blocker) {
      const where = blocker.host === this.#config.host ? '' : ` on host "${blocker.host}"`;
      const busy = `task "${task.id}" already has run #${blocker.id} ${blocker.status === 'running' ? 'running' : 'waiting'}${where}`;
      if (task.overlap === 'forbid' || elsewhere)
        throw new TaskBusyError(`${busy} (overlap: ${task.overlap})`);
      if (task.overlap === 'replace') await this.#replace(task.id, 'a manual run (overlap: replace)');
    }
    const run = await this.#ledger.enqueue(task, {
      trigger: 'manual',
      scheduledFor: null,
      notBefore: now,
      attempt: 1,
      reason: null,
    });
    if (opts.retry === false) this.#noRetry.add(run.id);
    await this.#requestPass();
    return run;
  }

  /**
   * A manual run of an `overlap: queue` task: recorded first, then kept only if at most
   * queue_max runs wait ahead of it — counted in the store over every live process (this daemon,
   * or CLI processes without one), in id order, so concurrent callers agree on who is in and
   * who is turned away. One turned away is recorded as skipped, with the reason, and refused.
   */
  async #queueManual(task: TaskConfig, now: number): Promise<RunRecord> {
    const queued = {
      trigger: 'manual',
      scheduledFor: null,
      notBefore: now,
      attempt: 1,
      reason: null,
    } as const;
    const run = await this.#ledger.insertQueued(task, queued);
    // Every caller applies this rule in id order, so of the rows ahead only the first
    // 1 + queue_max are in: a lower row beyond them is another caller about to be turned away,
    // not a run this one waits behind (counting it said "2 runs already waiting" under a race).
    const ahead = (await liveRunsOf(this.#recovery, task.id))
      .filter((r) => r.id < run.id)
      .sort((a, b) => a.id - b.id)
      .slice(0, 1 + task.queueMax);
    const full = queueFull(task, ahead);
    if (full) {
      await this.#ledger.finishAndSettle(run.id, { status: 'skipped', finishedAt: now, reason: full });
      throw new TaskBusyError(`task "${task.id}" cannot take another run: ${full}`);
    }
    this.#ledger.hold(run, now);
    await this.#requestPass();
    return run;
  }

  /** Cancels a queued or running run. */
  async cancel(runId: number, reason = 'cancelled on request'): Promise<boolean> {
    const q = this.#queue.get(runId);
    if (q) {
      await this.#ledger.finishQueued(q, 'cancelled', reason);
      return true;
    }
    const r = this.#running.get(runId);
    if (r) {
      r.controller.abort(new RunAbort({ kind: 'cancel', reason }));
      return true;
    }
    return false;
  }

  /** Resolves with the run's final record once it has finished (with followRetries: its last retry's). */
  waitForRun(runId: number, opts: { followRetries?: boolean } = {}): Promise<RunRecord> {
    return this.#ledger.waitFor(runId, opts.followRetries === true);
  }

  // ---- the pass -------------------------------------------------------------------------------

  #requestPass(): Promise<void> {
    if (this.#pass) {
      this.#passAgain = true;
      return this.#pass;
    }
    this.#pass = (async () => {
      do {
        this.#passAgain = false;
        try {
          await this.#runPass();
        } catch (err) {
          this.#report(err, 'scheduling pass failed');
        }
      } while (this.#passAgain);
      this.#pass = null;
      this.#arm();
    })();
    return this.#pass;
  }

  async #runPass(): Promise<void> {
    const now = this.#clock.now();
    const mono = this.#clock.monotonic();
    if (this.#lastPassAt !== null && this.#lastPassMono !== null) {
      const stepped = now - this.#lastPassAt - (mono - this.#lastPassMono);
      if (stepped < -CLOCK_STEP_TOLERANCE_MS) this.#wallSteppedBack(-stepped, now);
    }
    this.#lastPassAt = now;
    this.#lastPassMono = mono;
    if (this.#scheduling) {
      const due = [...this.#timers.values()].filter((t) => t.dueAt !== null && t.dueAt <= now);
      if (due.length > 0) await this.#fireDue(due, now, LATE_AFTER_MS);
    }
    await this.#dispatch(now);
    if (this.#scheduling && now >= this.#nextPruneAt) {
      this.#nextPruneAt = now + PRUNE_EVERY_MS;
      const h = this.#config.history;
      const pruned = await this.#store.prune({
        now,
        keepDays: h.keepDays,
        keepRunsPerTask: h.keepRunsPerTask,
      });
      if (pruned.runsDeleted > 0) this.#logger.info(pruned, 'history pruned');
      this.#ledger.forgetOldCycles();
    }
  }

  /**
   * The wall clock went back: every task's next fire is planned again from now (else each would
   * wait out the step), and waits counted in wall time (retry backoff, prune) move with it.
   */
  #wallSteppedBack(byMs: number, now: number): void {
    this.#logger.warn(
      { steppedBackMs: byMs },
      `the wall clock went back by ${formatDuration(byMs)}: planning every task's next run again`,
    );
    for (const timer of this.#timers.values()) timer.wallSteppedBack(byMs, now);
    for (const q of this.#queue.values()) if (q.readyAt > now) q.readyAt = Math.max(now, q.readyAt - byMs);
    this.#nextPruneAt = Math.min(this.#nextPruneAt, now + PRUNE_EVERY_MS);
  }

  #arm(): void {
    if (this.#timer) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    if (this.#stopping) return;
    const now = this.#clock.now();
    if (!this.#scheduling) {
      // Not scheduling (a CLI run without a daemon): only wake for runs waiting their turn.
      // Those that came ready since the last dispatch too: a retry whose backoff ended while the
      // pass was still going was never looked at, and nothing else would wake for it.
      let wake = Infinity;
      for (const q of this.#queue.values())
        if (q.readyAt > this.#dispatchedAt && q.readyAt < wake) wake = q.readyAt;
      if (wake === Infinity) return;
      this.#timer = this.#clock.setTimer(
        () => {
          this.#timer = null;
          void this.#requestPass();
        },
        Math.max(0, wake - now),
      );
      return;
    }
    let next = this.#nextPruneAt;
    for (const t of this.#timers.values()) if (t.dueAt !== null && t.dueAt < next) next = t.dueAt;
    for (const q of this.#queue.values()) {
      if (q.readyAt > this.#dispatchedAt && q.readyAt < next) next = q.readyAt;
      // A run waiting for a slot is skipped at its starting_deadline, not when the slot frees.
      const deadline = deadlineOf(q.run, this.#taskOf(q.run.task));
      if (deadline !== null && deadline > now && deadline < next) next = deadline;
    }
    const wait = Math.min(Math.max(0, next - now), MAX_TIMER_WAIT_MS);
    // Nothing due for a while and nothing running: the moment for the store's deferred work.
    if (
      this.#scheduling &&
      wait >= IDLE_HOUSEKEEPING_MS &&
      this.#running.size === 0 &&
      this.#store.housekeep
    ) {
      this.#store.housekeep().catch((err: unknown) => this.#report(err, 'store housekeeping failed'));
    }
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = null;
      void this.#requestPass();
    }, wait);
  }

  // ---- firing ---------------------------------------------------------------------------------

  /**
   * Acts on what these timers have due: their fires are taken first and a cluster task's slots
   * claimed for all of them at once (one statement), then each task's fires are acted on.
   */
  async #fireDue(timers: Iterable<TaskTimer>, now: number, lateAfterMs: number): Promise<void> {
    const taken = [...timers].map((timer) => ({
      timer,
      due: timer.takeDue(now, lateAfterMs, Math.max(1, timer.task.missedMax)),
    }));
    // A cluster task's fire is this host's to act on only if its claim of the slot was first.
    const won = await this.#slots.claimAll(
      taken.map(({ timer, due }) => ({ task: timer.task, fires: [...due.late, ...due.onTime] })),
      now,
    );
    // A host task's one scheduled fire of this pass is recorded with the others' in one write.
    const batch: FireBatch = [];
    try {
      for (const { timer, due } of taken) await this.#actOnDue(timer, due, won, now, lateAfterMs, batch);
    } finally {
      if (batch.length > 0) await this.#ledger.enqueueMany(batch);
    }
  }

  async #actOnDue(
    timer: TaskTimer,
    due: DueFires,
    won: Won,
    now: number,
    lateAfterMs: number,
    batch?: FireBatch,
  ): Promise<void> {
    const task = timer.task;
    const late = won(task, due.late);
    const onTime = won(task, due.onTime);
    const pause = this.#pauses.get(task.id);
    if (pause) {
      // Every slot while paused is a row in the history, so it shows the gap and who made it;
      // claimed like any skipped fire, so resuming owes none of them (no catch-up).
      const reason = pausedReason(pause);
      for (const fire of [...late, ...onTime]) {
        await this.#ledger.skipFire(task, fire, reason, { quiet: true });
        await this.#slots.skipped(task, fire, reason);
      }
      return;
    }
    const lateCount = task.scope === 'cluster' ? late.length : due.lateCount;
    if (lateCount > 0) {
      const decisions = decideMissed(task, {
        late,
        count: lateCount,
        now,
        atStart: lateAfterMs === 0,
        dueOf: (fire) => timer.dueOf(fire),
      });
      for (const d of decisions) {
        if (d.kind === 'catch-up') await this.#fire(task, d.fire, 'catch-up', d.note, now);
        else {
          // Every skip decided here stands for missed slots (alerted on only where `missed`).
          const skipped = await this.#ledger.skipFire(task, d.fire, d.reason, { missed: true });
          await this.#slots.skipped(task, d.fire, d.reason);
          if (d.missed) this.emit('run:missed', skipped);
        }
      }
    }
    const fires = this.#foldCooldown(timer, onTime);
    // Batched only alone (a second fire's overlap decision must see the first run queued) and on
    // this host (a cluster slot's run is attached to its claim at once).
    const into = fires.length === 1 && task.scope !== 'cluster' ? batch : undefined;
    for (const fire of fires) await this.#fire(task, fire, 'schedule', null, timer.dueOf(fire), into);
  }

  /**
   * Fires that fell inside the task's cooldown all come due when it ends: one run covers them.
   * They fold into the latest fire due with them, logged once (with how many) rather than a
   * line, a skip or a run each.
   */
  #foldCooldown(timer: TaskTimer, onTime: number[]): number[] {
    const { task } = timer;
    if (onTime.length < 2 || task.cooldownMs <= 0 || timer.lastStartedAt === null) return onTime;
    const cooldownEnd = timer.lastStartedAt + task.cooldownMs;
    const last = onTime[onTime.length - 1]!;
    const kept = onTime.filter((f) => f === last || f + timer.jitter >= cooldownEnd);
    const folded = onTime.length - kept.length;
    if (folded > 0) {
      const into = kept.find((f) => f + timer.jitter >= cooldownEnd) ?? last;
      this.#logger.info(
        { task: task.id, folded, into: new Date(into).toISOString() },
        `${task.id}: ${folded} scheduled ${folded === 1 ? 'run' : 'runs'} during its cooldown (${formatDuration(task.cooldownMs)}) folded into the run for ${new Date(into).toISOString()}`,
      );
    }
    return kept;
  }

  /** Turns one fire into a queued run, or into a recorded skip when overlap forbids it. */
  async #fire(
    task: TaskConfig,
    fire: number,
    trigger: RunTrigger,
    note: string | null,
    notBefore: number,
    batch?: FireBatch,
  ): Promise<void> {
    const decision = decideOverlap(task, fire, [
      ...this.#activeOf(task.id).map((m) => m.run),
      ...(await this.#activeElsewhereInFleet(task)),
    ]);
    switch (decision.kind) {
      case 'skip':
        await this.#ledger.skipFire(task, fire, decision.reason);
        await this.#slots.skipped(task, fire, decision.reason);
        return;
      case 'coalesce':
        // One waiting run already covers this fire.
        await this.#store.claimFire(task.id, this.#config.host, fire);
        await this.#slots.skipped(task, fire, `coalesced into the waiting run #${decision.into}`);
        this.#logger.info(
          { task: task.id, fire: new Date(fire).toISOString(), into: decision.into },
          'fire coalesced into the waiting run (missed: once)',
        );
        return;
      case 'replace-then-enqueue':
        await this.#replace(task.id, decision.by);
        break;
      case 'enqueue':
        break;
    }
    const queued: NewQueuedRun = { trigger, scheduledFor: fire, notBefore, attempt: 1, reason: note };
    if (batch) {
      batch.push({ task, run: queued });
      return;
    }
    const run = await this.#ledger.enqueue(task, queued);
    await this.#slots.attached(task, run);
  }

  async #replace(taskId: string, by: string): Promise<void> {
    for (const m of this.#activeOf(taskId)) {
      if (m.run.status === 'queued')
        await this.#ledger.finishQueued(m as Queued, 'cancelled', `replaced by ${by}`);
      else (m as Running).controller.abort(new RunAbort({ kind: 'cancel', reason: `replaced by ${by}` }));
    }
  }

  // ---- dispatch -------------------------------------------------------------------------------

  async #dispatch(now: number): Promise<void> {
    if (this.#stopping) return;
    this.#dispatchedAt = now;
    await this.#skipPaused();
    for (const step of expiredRuns([...this.#queue.values()], now, (id) => this.#taskOf(id))) {
      if (step.kind !== 'skip') continue;
      const skipped = await this.#ledger.finishQueued(step.entry, 'skipped', step.reason, true);
      this.emit('run:missed', skipped);
    }
    let ready = [...this.#queue.values()].filter((q) => q.readyAt <= now);
    const free = this.#config.concurrency - this.#running.size;
    if (ready.length === 0 || free <= 0) return;
    ready = await this.#notHeldElsewhere(ready, now);
    if (ready.length === 0) return;
    if (ready.length > free) {
      await this.#loadRecent(ready.map((q) => q.run.task));
      ready = orderForStart(ready, (q) => this.#scoreOf(q, now));
    }
    const fleetCycles = await this.#fleetCycles(ready);
    const steps = planDispatch({
      ready,
      now,
      config: this.#config,
      runningTasks: [...this.#running.values()].flatMap((r) => this.#taskOf(r.run.task) ?? []),
      elsewhere: await this.#clusterRunsElsewhere(ready),
      taskOf: (id) => this.#taskOf(id),
      gate: (task, run) =>
        dependencyGate(task, run.scheduledFor, {
          timers: this.#timers,
          active: (id, fire) =>
            this.#activeOf(id).some((m) => m.run.scheduledFor === fire) ||
            fleetCycles.get(`${id}@${fire}`)?.active === true,
          result: (id, fire) => this.#ledger.cycle(id, fire) ?? fleetCycles.get(`${id}@${fire}`)?.result,
        }),
    });
    // The starts of the pass are recorded before their actions are called, LAUNCH_BATCH in one
    // write: a burst of runs due at one instant starts within one transaction, instead of each
    // start waiting behind the finish bookkeeping of the quick runs launched before it (their
    // completions run between the awaits of this loop). On a slow store the first of a long burst
    // does not wait for the last. A failure part-way still launches what was recorded; what was
    // not stays queued.
    let unguarded: { q: Queued; task: TaskConfig }[] = [];
    let launches: { run: RunRecord; task: TaskConfig }[] = [];
    const recordUnguarded = async () => {
      const batch = unguarded;
      unguarded = [];
      if (batch.length === 0) return;
      const runs = await this.#ledger.startMany(
        batch.map((b) => b.q),
        now,
      );
      runs.forEach((run, i) => launches.push({ run, task: batch[i]!.task }));
    };
    const launchRecorded = () => {
      const recorded = launches;
      launches = [];
      for (const { run, task } of recorded) {
        const timer = this.#timers.get(task.id);
        if (timer) {
          timer.lastStartedAt = now;
          timer.refreshDue();
        }
        this.#launch(run, task);
      }
    };
    try {
      for (const step of steps) {
        const q = step.entry;
        if (step.kind === 'defer') q.readyAt = step.readyAt;
        else if (step.kind === 'cancel') await this.#ledger.finishQueued(q, 'cancelled', step.reason);
        else if (step.kind === 'skip') {
          const skipped = await this.#ledger.finishQueued(q, 'skipped', step.reason, step.missed);
          if (step.missed) this.emit('run:missed', skipped);
        } else {
          const guards = this.#startGuards(step.task);
          if (guards.length === 0) unguarded.push({ q, task: step.task });
          else {
            const started = await this.#ledger.startGuarded(q, now, guards);
            // Another host started past the cap a moment before: look again soon.
            if (!started) q.readyAt = now + FLEET_POLL_MS;
            else launches.push({ run: started, task: step.task });
          }
          if (unguarded.length + launches.length >= LAUNCH_BATCH) {
            await recordUnguarded();
            launchRecorded();
          }
        }
      }
      await recordUnguarded();
    } finally {
      launchRecorded();
    }
    // A run held by the fleet (a cluster run or a group member elsewhere, a dependency another
    // host runs) hears nothing when that ends: it looks again, as runs held by local processes do.
    if (this.#store.kind !== 'sqlite') {
      const acted = new Set(steps.map((s) => s.entry.run.id));
      for (const q of ready) {
        const task = this.#taskOf(q.run.task);
        if (!acted.has(q.run.id) && task && (task.scope === 'cluster' || task.group !== null))
          q.readyAt = now + FLEET_POLL_MS;
      }
    }
  }

  /**
   * A paused task does not start: its waiting runs (scheduled, catch-up, retries, and manual runs
   * asked for before the pause) end as skipped. A manual run queued since the pause was forced.
   */
  async #skipPaused(): Promise<void> {
    if (this.#pauses.size === 0) return;
    for (const q of [...this.#queue.values()]) {
      const pause = this.#pauses.get(q.run.task);
      if (!pause || (q.run.trigger === 'manual' && q.run.queuedAt >= pause.at)) continue;
      await this.#ledger.finishQueued(q, 'skipped', pausedReason(pause));
    }
  }

  /**
   * One run of a task at a time on the host, in id order, whichever process holds it: a run
   * waits while another live process (a CLI run without a daemon) runs the task or holds an
   * older waiting run of it, and looks again every HELD_ELSEWHERE_POLL_MS.
   */
  async #notHeldElsewhere(ready: Queued[], now: number): Promise<Queued[]> {
    const others = (await this.#store.activeRuns(this.#config.host)).filter(
      (r) =>
        !r.dryRun &&
        r.pid !== null &&
        r.pid !== this.#pid &&
        !this.#queue.has(r.id) &&
        !this.#running.has(r.id),
    );
    if (others.length === 0) return ready;
    const alive = new Map<number, boolean>();
    const live = (pid: number) => {
      if (!alive.has(pid)) alive.set(pid, this.#recovery.isAlive(pid));
      return alive.get(pid)!;
    };
    return ready.filter((q) => {
      const held = others.some(
        (r) => r.task === q.run.task && (r.status === 'running' || r.id < q.run.id) && live(r.pid!),
      );
      if (held) q.readyAt = now + HELD_ELSEWHERE_POLL_MS;
      return !held;
    });
  }

  #taskOf(id: string): TaskConfig | undefined {
    return this.#timers.get(id)?.task ?? this.#config.tasks.find((t) => t.id === id);
  }

  #scoreOf(q: Queued, now: number): number {
    const timer = this.#timers.get(q.run.task);
    if (!timer) return 0;
    return priorityOf(this.#config, timer.task, {
      now,
      dueSince: q.run.notBefore ?? q.run.queuedAt,
      periodMs: timer.periodMs,
      recent: this.#recent.get(q.run.task) ?? NO_HISTORY,
    }).score;
  }

  async #loadRecent(taskIds: readonly string[]): Promise<void> {
    for (const id of new Set(taskIds)) {
      if (!this.#recent.has(id)) this.#recent.set(id, await this.#store.recentRuns(id, RECENT_RUNS_WINDOW));
    }
  }

  #launch(run: RunRecord, task: TaskConfig): void {
    const controller = new AbortController();
    const entry: Running = { run, controller, done: Promise.resolve() };
    this.#running.set(run.id, entry);
    this.emit('run:started', run);
    entry.done = this.#execute(entry, task).finally(() => {
      this.#running.delete(run.id);
      void this.#requestPass();
    });
  }

  async #execute(entry: Running, task: TaskConfig): Promise<void> {
    const { run } = entry;
    try {
      const action = this.#registry.get(task.action);
      if (!action) throw new Error(`action "${task.action}" is not registered`);
      const store = this.#store;
      const exec = await executeRun({
        run,
        task,
        action,
        config: this.#config,
        clock: this.#clock,
        logger: this.#logger,
        controller: entry.controller,
        history: {
          async recent(limit) {
            const runs = await store.listRuns({ task: task.id, limit: limit + 1 });
            // Rollback rows record an operator's action, not a run of the task.
            return runs.filter((r) => r.id !== run.id && isExecution(r.trigger)).slice(0, limit);
          },
        },
        onProgress: (p) => this.emit('run:progress', { runId: run.id, task: task.id, ...p }),
        onOutput: (text) => this.emit('run:output', { runId: run.id, task: task.id, text }),
        onProcess: (pgid) => {
          this.#store
            .setChildProcess(run.id, pgid, processStartTime(pgid))
            .catch((err: unknown) => this.#report(err, `could not record the process of run #${run.id}`));
        },
        samples: { series: (key, since) => store.sampleSeries(task.id, key, since) },
        datasets: this.#datasets,
        rollbacks: this.#rollbacks,
      });
      const final = await this.#ledger.finish(run.id, exec);
      // No longer running before anyone hears it finished: a caller that awaited this run may
      // start the task again at once.
      this.#running.delete(run.id);
      const samples = exec.result?.samples;
      if (!run.dryRun && samples && samples.length > 0) {
        try {
          await this.#store.recordSamples(task.id, exec.finishedAt, samples);
        } catch (err) {
          this.#report(err, `samples of run #${run.id} could not be recorded`);
        }
      }
      await this.#afterFinish(final, task);
    } catch (err) {
      this.#report(err, `run #${run.id} of ${task.id} could not be recorded`);
      try {
        const now = this.#clock.now();
        this.#running.delete(run.id);
        await this.#ledger.finishAndSettle(run.id, {
          status: 'failed',
          finishedAt: now,
          reason: `internal error: ${(err as Error).message}`,
        });
      } catch {
        // The store itself is failing; the run is marked interrupted at the next start.
      }
    }
  }

  async #afterFinish(run: RunRecord, task: TaskConfig): Promise<void> {
    // Past-run figures feed priority only when the queue is saturated: reload them then.
    if (!run.dryRun) this.#recent.delete(task.id);
    const retry = planRetry(run, task, {
      now: this.#clock.now(),
      host: this.#config.host,
      stopping: this.#stopping,
      noRetry: this.#noRetry.delete(run.id),
    });
    if (retry) {
      const queued = await this.#ledger.enqueue(task, {
        trigger: 'retry',
        scheduledFor: run.scheduledFor,
        notBefore: retry.notBefore,
        attempt: retry.attempt,
        reason: retry.reason,
      });
      await this.#slots.attached(task, queued);
      this.#logger.info({ task: task.id, run: queued.id, delayMs: retry.delayMs }, 'retry scheduled');
      this.#ledger.settled(run, false, queued);
      return;
    }
    this.#ledger.settled(run);
  }

  // ---- the fleet: cluster slots held, lost and taken over -------------------------------------

  /**
   * Slots this host let its first candidates claim, that no host claimed by its fallback time
   * (both candidates dead, not yet known lost): claimed now and acted on as due.
   */
  async #fallbackSlots(asked: readonly SlotKey[], unclaimed: readonly SlotKey[]): Promise<void> {
    const won = await this.#slots.resolveDeferred(asked, unclaimed);
    if (won.size === 0 || !this.#scheduling) return;
    const now = this.#clock.now();
    for (const [id, fires] of won) {
      const timer = this.#timers.get(id);
      if (timer?.task.scope === 'cluster')
        await this.#actOnDue(timer, { onTime: fires, late: [], lateCount: 0 }, allWon, now, LATE_AFTER_MS);
    }
    await this.#requestPass();
  }

  /**
   * The cycles of cluster dependencies that other hosts ran: a ready cluster run whose
   * `depends_on` names a cluster task waits while that slot is claimed or running anywhere (or
   * not claimed yet, for up to a lease after the slot), and goes (or is skipped) by the result
   * of whichever host ran it.
   */
  async #fleetCycles(ready: readonly Queued[]): Promise<Map<string, FleetCycle>> {
    const cycles = new Map<string, FleetCycle>();
    if (this.#store.kind === 'sqlite') return cycles;
    for (const q of ready) {
      const task = this.#taskOf(q.run.task);
      const fire = q.run.scheduledFor;
      if (!task || task.scope !== 'cluster' || fire === null) continue;
      for (const depId of task.dependsOn) {
        const key = `${depId}@${fire}`;
        if (cycles.has(key) || this.#taskOf(depId)?.scope !== 'cluster' || this.#ledger.cycle(depId, fire))
          continue;
        const claim = await this.#store.getClaim(depId, fire);
        if (!claim) {
          // Not claimed yet: the host that will run it may fire a moment after this one. Wait
          // for a claim up to a lease after the slot; then no host runs it, and the cycle's own
          // rule (not run in this cycle) decides.
          if (this.#clock.now() < fire + this.#config.fleet.leaseMs)
            cycles.set(key, { active: true, result: undefined });
          continue;
        }
        const runs = (await this.#store.listRuns({ task: depId, limit: 50 })).filter(
          (r) => r.scheduledFor === fire,
        );
        const last = runs[0];
        const active = claim.state === 'held' || runs.some((r) => r.finishedAt === null);
        cycles.set(key, {
          active,
          result: !active && last ? { status: last.status, runId: last.id } : undefined,
        });
      }
    }
    return cycles;
  }

  /**
   * What must hold fleet-wide when this host starts a run of the task, decided in the store
   * under a lock: a cluster task has one run at a time in the fleet, and a group's cap counts
   * the cluster runs of every host.
   */
  #startGuards(task: TaskConfig): StartGuard[] {
    if (this.#store.kind === 'sqlite') return [];
    const host = this.#config.host;
    const guards: StartGuard[] = [];
    if (task.scope === 'cluster')
      guards.push({ key: `task:${task.id}`, tasks: [task.id], cap: 1, host, local: 0 });
    const cap = task.group === null ? undefined : this.#config.groups[task.group];
    // While the store is away a host task still starts (its group counts this host only).
    if (
      task.group !== null &&
      cap !== undefined &&
      (task.scope === 'cluster' || this.#storeHealth.reachable)
    ) {
      const members = this.#config.tasks.filter((t) => t.group === task.group && t.scope === 'cluster');
      if (members.length > 0) {
        const local = [...this.#running.values()].filter(
          (r) => this.#taskOf(r.run.task)?.group === task.group,
        ).length;
        guards.push({ key: `group:${task.group}`, tasks: members.map((t) => t.id), cap, host, local });
      }
    }
    return guards;
  }

  /** A cluster task's queued and running runs on other hosts (its overlap holds fleet-wide). */
  async #activeElsewhereInFleet(task: TaskConfig): Promise<RunRecord[]> {
    if (task.scope !== 'cluster' || this.#store.kind === 'sqlite') return [];
    const runs = await this.#store.listRuns({ task: task.id, statuses: ['queued', 'running'], limit: 100 });
    return runs.filter((r) => r.host !== this.#config.host && !r.dryRun).sort((a, b) => a.id - b.id);
  }

  /**
   * Cluster tasks running on other hosts, when a ready run could be held by one (it is a
   * cluster task, or in a group): read from the store only then.
   */
  async #clusterRunsElsewhere(ready: readonly Queued[]): Promise<TaskConfig[]> {
    if (this.#store.kind === 'sqlite') return [];
    const tasks = ready.flatMap((q) => this.#taskOf(q.run.task) ?? []);
    if (!tasks.some((t) => t.scope === 'cluster' || t.group !== null)) return [];
    const runs = await this.#store.listRuns({ statuses: ['running'], limit: 1000 });
    return runs.flatMap((r) => {
      const t = r.host === this.#config.host || r.dryRun ? undefined : this.#taskOf(r.task);
      return t?.scope === 'cluster' ? [t] : [];
    });
  }

  /**
   * Queued runs recovered from a crashed previous daemon whose cluster slot another host took
   * over meanwhile: that host runs the slot, so they are cancelled here.
   */
  async #dropSlotsTakenOver(adopted: readonly ClaimRecord[]): Promise<void> {
    const mine = new Set(adopted.map((c) => `${c.task}@${c.slot}`));
    for (const q of [...this.#queue.values()]) {
      const task = this.#taskOf(q.run.task);
      const slot = q.run.scheduledFor;
      if (task?.scope !== 'cluster' || slot === null || mine.has(`${task.id}@${slot}`)) continue;
      const claim = await this.#store.getClaim(task.id, slot);
      if (!claim) continue;
      if (claim.instance !== this.#fleet.instance)
        await this.#ledger.finishQueued(q, 'cancelled', `its slot was taken over by host "${claim.host}"`);
    }
  }

  /**
   * A slot this host's previous daemon held when it died, now this daemon's: a run still queued
   * here goes on; a run it left finished ends the slot; one the crash interrupted (or a claim
   * with no run yet) is decided by the task's takeover policy, as another host would.
   */
  async #resumeSlot(claim: ClaimRecord): Promise<void> {
    const task = this.#taskOf(claim.task);
    const run = claim.runId === null ? undefined : await this.#store.getRun(claim.runId);
    if (run && this.#queue.has(run.id)) {
      this.#slots.hold(claim.task, claim.slot, run.id);
      return;
    }
    if (!task || task.scope !== 'cluster' || !task.enabled) {
      await this.#store.releaseSlot(claim.task, claim.slot, this.#fleet.instance, {
        state: 'skipped',
        reason: `task "${claim.task}" is no longer a cluster task of host "${this.#config.host}"`,
      });
      return;
    }
    if (run && run.status !== 'interrupted' && run.finishedAt !== null) {
      await this.#store.releaseSlot(claim.task, claim.slot, this.#fleet.instance, { state: 'done' });
      return;
    }
    await this.#rerunSlot(
      claim,
      task,
      run,
      `the daemon of host "${claim.host}" stopped while it held the slot`,
    );
  }

  /** Another host (or this host's crashed daemon) went silent holding a slot: take it over. */
  async #takeOver(claim: ClaimRecord, task: TaskConfig): Promise<void> {
    if (this.#stopping) return;
    const now = this.#clock.now();
    const silent = `host "${claim.host}" stopped heartbeating (its lease ended ${new Date(claim.leaseUntil).toISOString()})`;
    const skip = task.takeover === 'skip' || claim.takeovers >= 1;
    const why = skip
      ? `${silent}; not run again (${task.takeover === 'skip' ? 'takeover: skip' : 'it was taken over once already'})`
      : `${silent}; taken over by host "${this.#config.host}"`;
    const old = claim.runId === null ? undefined : await this.#store.getRun(claim.runId);
    // The holder finished the slot and died before it said so: the slot is done, not run again.
    const ranToEnd = old !== undefined && old.finishedAt !== null && old.status !== 'interrupted';
    const won = await this.#store.takeOver({
      task: task.id,
      slot: claim.slot,
      fromInstance: claim.instance,
      host: this.#config.host,
      instance: this.#fleet.instance,
      now,
      leaseMs: this.#config.fleet.leaseMs,
      reason: why,
      skip: skip && !ranToEnd,
    });
    if (!won) return;
    if (ranToEnd) {
      await this.#store.releaseSlot(task.id, claim.slot, this.#fleet.instance, { state: 'done' });
      return;
    }
    if (old && old.finishedAt === null)
      await this.#ledger.finishAndSettle(old.id, {
        status: old.status === 'running' ? 'interrupted' : 'cancelled',
        finishedAt: now,
        reason: why,
      });
    this.#logger.warn(
      { task: task.id, slot: new Date(claim.slot).toISOString(), from: claim.host },
      `${task.id}: ${why}`,
    );
    if (skip) {
      if (!old) await this.#ledger.skipFire(task, claim.slot, why);
      return;
    }
    await this.#rerunSlot(won, task, old, silent);
  }

  /** Runs a held slot again on this host (the takeover policy rerun), or ends it as skipped. */
  async #rerunSlot(
    claim: ClaimRecord,
    task: TaskConfig,
    old: RunRecord | undefined,
    why: string,
  ): Promise<void> {
    if (task.takeover === 'skip') {
      const reason = `${why}; not run again (takeover: skip)`;
      if (!old) await this.#ledger.skipFire(task, claim.slot, reason);
      await this.#slots.skipped(task, claim.slot, reason);
      return;
    }
    const run = await this.#ledger.enqueue(task, {
      trigger: 'retry',
      scheduledFor: claim.slot,
      notBefore: this.#clock.now(),
      attempt: (old?.attempt ?? 0) + 1,
      reason: `${why}: the slot runs again here (takeover: rerun)`,
    });
    await this.#slots.attached(task, run);
    await this.#requestPass();
  }

  /** This host lost a slot it held (it missed its heartbeats): stop its run of it here. */
  async #fence(claim: ClaimRecord): Promise<void> {
    this.#slots.forget(claim.task, claim.slot);
    const reason = `the slot was taken over by host "${claim.host}" after this host missed its heartbeats`;
    for (const q of [...this.#queue.values()]) {
      if (q.run.task === claim.task && q.run.scheduledFor === claim.slot)
        await this.#ledger.finishQueued(q, 'cancelled', reason);
    }
    for (const r of this.#running.values()) {
      if (r.run.task === claim.task && r.run.scheduledFor === claim.slot)
        r.controller.abort(new RunAbort({ kind: 'shutdown', reason }));
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  #task(id: string): TaskConfig {
    const task = this.#config.tasks.find((t) => t.id === id);
    if (!task) throw unknownTask(id, this.#config);
    return task;
  }

  #activeOf(taskId: string): (Queued | Running)[] {
    const out: (Queued | Running)[] = [];
    for (const r of this.#running.values()) if (r.run.task === taskId && !r.run.dryRun) out.push(r);
    for (const q of this.#queue.values()) if (q.run.task === taskId) out.push(q);
    return out;
  }

  #report(err: unknown, context: string): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.#logger.error({ err: e }, context);
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
