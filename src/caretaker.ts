/**
 * The facade: one object that holds the configuration, the store and the engine, for the CLI,
 * the daemon and any Node service that embeds caretaker.
 */
import type { Logger } from 'pino';
import { silentLogger } from './engine/silent-logger.js';
import { builtinRegistry } from './actions/builtin.js';
import type { AnyAction } from './actions/types.js';
import { loadConfigFile, parseConfigText } from './config/load.js';
import { recordLoadedConfig } from './config/own-config-check.js';
import type { Config, TaskConfig } from './config/types.js';
import type { Clock } from './core/clock.js';
import type { PriorityBreakdown } from './core/priority.js';
import { SystemClock } from './engine/clock.js';
import { Engine, type EngineEvents } from './engine/engine.js';
import { NO_HISTORY, priorityOf } from './engine/priority-input.js';
import { StateLock, type HolderInfo } from './engine/state-lock.js';
import { TaskTimer } from './engine/task-timer.js';
import { rollbackToPoint, type ManualRollbackOutcome } from './engine/manual-rollback.js';
import { computeMetrics, type MetricsReport } from './report/metrics.js';
import { saveHealthReport } from './report/report-files.js';
import { Supervision } from './supervision.js';
import { datasetFromRecords, type Dataset } from './core/dataset.js';
import { didYouMean } from './core/did-you-mean.js';
import { DeadManWatch, type WatchStatus } from './engine/dead-man-watch.js';
import { UsageError } from './errors/usage-error.js';
import { storeDatasets } from './report/datasets.js';
import { healthReportOf, type HealthReport } from './report/health-report.js';
import { gatherSummary, type SummaryReport } from './report/summary-report.js';
import { PathGuard } from './safety/path-guard.js';
import type { PointSummary } from './safety/rollback-manifest.js';
import { RollbackPoints, type RetentionResult } from './safety/rollback-points.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { IncidentRecord, PingRecord, RunQuery, RunRecord, Store, TaskState } from './store/types.js';
import { VERSION } from './version.js';

export interface CaretakerOptions {
  /** A path to caretaker.yaml. */
  readonly configPath?: string;
  /** Or the YAML text itself (relative paths resolve against `baseDir`, default the cwd). */
  readonly configText?: string;
  readonly baseDir?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Custom actions, in addition to the built-ins. */
  readonly actions?: readonly AnyAction[];
  /** Host name runs are recorded under. */
  readonly host?: string;
  /** Open the store read-only (reports from a CLI while a daemon writes). */
  readonly readonly?: boolean;
  /**
   * This instance will schedule (a daemon or an embedded scheduler): the store defers its
   * housekeeping to idle moments. @default false
   */
  readonly scheduler?: boolean;
}

export interface TaskSummary {
  readonly id: string;
  readonly action: string;
  readonly description: string | undefined;
  readonly schedule: string | null;
  readonly timezone: string;
  readonly enabled: boolean;
  readonly group: string | null;
  readonly priority: TaskConfig['priority'];
  readonly score: number;
  /** When the next scheduled run is due (in the past: overdue, the scheduler is not running). */
  readonly nextRunAt: number | null;
  readonly lastStatus: string | null;
  readonly lastFinishedAt: number | null;
  readonly lastSuccessAt: number | null;
  readonly consecutiveFailures: number;
}

export class Caretaker {
  readonly #registry;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #store: Store;
  readonly #engine: Engine;
  readonly #lock: StateLock;
  readonly #opts: CaretakerOptions;
  readonly #supervision: Supervision;
  readonly #rollbacks: RollbackPoints;
  #config: Config;

  constructor(opts: CaretakerOptions) {
    this.#opts = opts;
    this.#registry = builtinRegistry(opts.actions ?? []);
    this.#config = Caretaker.#load(opts, this.#registry);
    this.#clock = opts.clock ?? new SystemClock();
    this.#logger = opts.logger ?? silentLogger();
    this.#store = new SqliteStore(this.#config.store.path, {
      readonly: opts.readonly,
      deferCheckpoints: opts.scheduler ?? false,
    });
    this.#rollbacks = new RollbackPoints({
      stateDir: this.#config.stateDir,
      host: this.#config.host,
      clock: this.#clock,
      guard: new PathGuard({ stateDir: this.#config.stateDir }),
      maxPoints: this.#config.rollback.maxPoints,
      maxBytes: this.#config.rollback.maxBytes,
    });
    this.#engine = new Engine({
      rollbacks: this.#rollbacks,
      config: this.#config,
      store: this.#store,
      registry: this.#registry,
      clock: this.#clock,
      logger: this.#logger,
    });
    this.#lock = new StateLock(this.#config.stateDir);
    this.#supervision = new Supervision({
      config: this.#config,
      store: this.#store,
      clock: this.#clock,
      logger: this.#logger,
      engine: this.#engine,
    });
    if (!opts.readonly) this.#engine.on('run:finished', (run) => this.#saveReport(run));
  }

  /** Every finished health run leaves a Markdown report under state_dir/reports/. */
  #saveReport(run: RunRecord): void {
    if (run.dryRun || run.result === null) return;
    const task = this.#config.tasks.find((t) => t.id === run.task);
    if (task?.action !== 'health') return;
    try {
      saveHealthReport(this.#config.stateDir, run, this.#config.host, this.#config.alerting.reports.keep);
    } catch (err) {
      this.#logger.error({ err, run: run.id }, 'could not save the health report');
    }
  }

  /** Alerts, dead-man watches and the heartbeat (running while the scheduler runs). */
  get supervision(): Supervision {
    return this.#supervision;
  }

  static #load(opts: CaretakerOptions, registry: ReturnType<typeof builtinRegistry>): Config {
    if (opts.configText !== undefined) {
      const base = opts.baseDir ?? process.cwd();
      return parseConfigText(opts.configText, `${base}/caretaker.yaml`, { registry, host: opts.host });
    }
    if (!opts.configPath) throw new Error('createCaretaker needs configPath or configText');
    return loadConfigFile(opts.configPath, { registry, host: opts.host });
  }

  get config(): Config {
    return this.#config;
  }

  get engine(): Engine {
    return this.#engine;
  }

  get store(): Store {
    return this.#store;
  }

  get actions(): readonly AnyAction[] {
    return this.#registry.all();
  }

  /** Takes the state dir's lock and starts scheduling. */
  async start(holder: Partial<HolderInfo> = {}): Promise<void> {
    this.#lock.acquire({
      pid: process.pid,
      host: this.#config.host,
      startedAt: this.#clock.now(),
      version: VERSION,
      config: this.#config.file,
      ...holder,
    });
    try {
      // Alerts first: runs the engine finds interrupted at recovery are failures to tell about.
      await this.#supervision.start();
      await this.#engine.start();
    } catch (err) {
      await this.#supervision.stop();
      this.#lock.release();
      throw err;
    }
    this.#logger.info(
      { tasks: this.#config.tasks.length, stateDir: this.#config.stateDir, version: VERSION },
      'caretaker started',
    );
    await this.#recordLoaded();
  }

  /** Lets `caretaker validate` show what changed in the file since this scheduler loaded it. */
  async #recordLoaded(): Promise<void> {
    if (this.#opts.configPath === undefined) return;
    try {
      await recordLoadedConfig(this.#config.file, this.#config.stateDir, this.#clock.now());
    } catch (err) {
      this.#logger.warn({ err }, 'could not record the loaded configuration for drift reports');
    }
  }

  /** Stops scheduling, lets running tasks finish (up to the shutdown grace), releases the lock. */
  async stop(graceMs?: number): Promise<void> {
    await this.#engine.stop(graceMs);
    await this.#supervision.stop();
    this.#lock.release();
    await this.#store.close();
    this.#logger.info('caretaker stopped');
  }

  /** Closes the store without scheduling having started (CLI use). */
  async close(): Promise<void> {
    await this.#store.close();
  }

  updateHolder(holder: HolderInfo): void {
    this.#lock.update(holder);
  }

  /** Re-reads the configuration file; a broken file throws and the running config stays. */
  async reload(): Promise<Config> {
    const next = Caretaker.#load(this.#opts, this.#registry);
    if (next.stateDir !== this.#config.stateDir || next.store.path !== this.#config.store.path) {
      this.#logger.warn('state_dir and store changes take effect at the next start');
    }
    await this.#engine.reload(next);
    await this.#supervision.reload(next);
    this.#rollbacks.setLimits(next.rollback);
    this.#config = next;
    await this.#recordLoaded();
    return next;
  }

  /** Runs a task now. By default waits for the run to finish and returns its final record. */
  async runNow(taskId: string, opts: { dryRun?: boolean; wait?: boolean } = {}): Promise<RunRecord> {
    const run = await this.#engine.runNow(taskId, { dryRun: opts.dryRun });
    return opts.wait === false ? run : this.#engine.waitForRun(run.id);
  }

  waitForRun(runId: number): Promise<RunRecord> {
    return this.#engine.waitForRun(runId);
  }

  history(query: Partial<RunQuery> = {}): Promise<RunRecord[]> {
    return this.#store.listRuns({ limit: 20, ...query });
  }

  async metrics(days = 30): Promise<MetricsReport> {
    const today = Math.floor(this.#clock.now() / 86_400_000);
    return computeMetrics(await this.#store.dailyStats(today - days + 1), days, today);
  }

  async priority(taskId: string): Promise<PriorityBreakdown> {
    if (this.#engine.startedAt !== null) return await this.#engine.priority(taskId);
    const task = this.#config.tasks.find((t) => t.id === taskId);
    if (!task) return await this.#engine.priority(taskId); // throws the "unknown task" UsageError
    const states = await this.#store.taskStates(this.#config.host);
    return this.#offlinePriority(task, states.get(taskId), this.#clock.now());
  }

  /** Without a running engine: where the task stands from what the store recorded. */
  async #offlinePriority(
    task: TaskConfig,
    state: TaskState | undefined,
    now: number,
  ): Promise<PriorityBreakdown> {
    const timer = this.#offlineTimer(task, state, now);
    return priorityOf(this.#config, task, {
      now,
      dueSince: timer.dueAt !== null && timer.dueAt <= now ? timer.dueAt : null,
      periodMs: timer.periodMs,
      recent: (await this.#store.recentRuns(task.id, 50)) ?? NO_HISTORY,
    });
  }

  #offlineTimer(task: TaskConfig, state: TaskState | undefined, now: number): TaskTimer {
    const timer = new TaskTimer(task, this.#config.host, state?.lastStartedAt ?? null, now);
    timer.startAfter(state?.lastFire ?? now);
    return timer;
  }

  /** Every task with its schedule, next due instant, last result and priority score. */
  async tasks(): Promise<TaskSummary[]> {
    const now = this.#clock.now();
    const states = await this.#store.taskStates(this.#config.host);
    const live = this.#engine.startedAt !== null;
    const upcoming = new Map(this.#engine.upcoming().map((u) => [u.task, u.dueAt]));
    const out: TaskSummary[] = [];
    for (const task of this.#config.tasks) {
      const state = states.get(task.id);
      const next = live ? (upcoming.get(task.id) ?? null) : this.#offlineTimer(task, state, now).dueAt;
      const priority = live
        ? await this.#engine.priority(task.id)
        : await this.#offlinePriority(task, state, now);
      out.push({
        id: task.id,
        action: task.action,
        description: task.description,
        schedule: task.schedule?.text ?? null,
        timezone: task.timezone,
        enabled: task.enabled,
        group: task.group,
        priority: task.priority,
        score: priority.score,
        nextRunAt: next,
        lastStatus: state?.lastStatus ?? null,
        lastFinishedAt: state?.lastFinishedAt ?? null,
        lastSuccessAt: state?.lastSuccessAt ?? null,
        consecutiveFailures: state?.consecutiveFailures ?? 0,
      });
    }
    return out;
  }

  // ---- health, alerts, reports ---------------------------------------------------------------

  /** The health tasks (all enabled ones, or these ids), checked against the configuration. */
  healthTasks(ids: readonly string[] = []): string[] {
    const health = this.#config.tasks.filter((t) => t.action === 'health');
    if (ids.length === 0) return health.filter((t) => t.enabled).map((t) => t.id);
    for (const id of ids) {
      const task = this.#config.tasks.find((t) => t.id === id);
      if (!task)
        throw new UsageError(
          `unknown task "${id}"${didYouMean(
            id,
            health.map((t) => t.id),
          )}`,
        );
      if (task.action !== 'health')
        throw new UsageError(`task "${id}" is a ${task.action} task, not a health task`);
    }
    return [...ids];
  }

  /** Runs the health tasks now (recorded like any run) and returns their report. */
  async health(ids: readonly string[] = []): Promise<HealthReport> {
    const tasks = this.healthTasks(ids);
    const runs = await Promise.all(tasks.map((id) => this.runNow(id)));
    return healthReportOf(runs, this.#config.host, this.#clock.now());
  }

  /** Records a dead-man ping (through the running watch when scheduling, else straight to the store). */
  async ping(
    name: string,
    opts: { ok?: boolean; message?: string; source?: string } = {},
  ): Promise<PingRecord> {
    const names = this.#config.alerting.watches.map((w) => w.name);
    if (!names.includes(name))
      throw new UsageError(
        `unknown watch "${name}"${didYouMean(name, names)}; ${names.length ? `watches: ${names.join(', ')}` : 'declare it under watch: in the configuration'}`,
      );
    const ok = opts.ok ?? true;
    if (this.#supervision.running) return this.#supervision.watch.ping(name, ok, opts);
    const ping: PingRecord = {
      name,
      at: this.#clock.now(),
      ok,
      source: opts.source ?? null,
      message: opts.message ?? null,
    };
    await this.#store.recordPing(ping);
    return ping;
  }

  /** Every watch with its last ping and deadline. */
  async watches(): Promise<WatchStatus[]> {
    if (this.#supervision.running) return this.#supervision.watch.status();
    const probe = new DeadManWatch({
      store: this.#store,
      clock: this.#clock,
      logger: this.#logger,
      timezone: this.#config.timezone,
    });
    await probe.reload(this.#config.alerting.watches);
    return probe.status();
  }

  incidents(q: { open?: boolean; limit?: number } = {}): Promise<IncidentRecord[]> {
    return this.#store.listIncidents({ open: q.open, limit: q.limit ?? 100 });
  }

  /** Runs, success rates, failures, backups, incidents, watches and disk forecast over N days. */
  summaryReport(days = 7): Promise<SummaryReport> {
    return gatherSummary({
      store: this.#store,
      host: this.#config.host,
      now: this.#clock.now(),
      days,
      tasks: this.#config.tasks,
      watches: this.#config.alerting.watches,
    });
  }

  /** History, metrics and incidents of the last N days as tables (for `caretaker export`). */
  async datasets(days = 30): Promise<Dataset[]> {
    const now = this.#clock.now();
    const source = storeDatasets(this.#store, this.#clock);
    const incidents = await this.#store.listIncidents({ since: now - days * 86_400_000, limit: 100_000 });
    return [
      await source.get('history', { days }),
      await source.get('metrics', { days }),
      datasetFromRecords(
        'incidents',
        incidents.map((i) => ({
          ...i,
          openedAt: new Date(i.openedAt).toISOString(),
          lastSeenAt: new Date(i.lastSeenAt).toISOString(),
          lastNotifiedAt: i.lastNotifiedAt === null ? null : new Date(i.lastNotifiedAt).toISOString(),
          closedAt: i.closedAt === null ? null : new Date(i.closedAt).toISOString(),
        })),
      ),
    ];
  }

  /** Rollback points, newest first. */
  listRollbacks(filter: { task?: string } = {}): Promise<PointSummary[]> {
    return this.#rollbacks.list(filter);
  }

  /**
   * Restores a rollback point (after verifying it) and records the rollback in the task's history
   * with its reason. A point of the current state is taken first: roll back to it to undo this.
   */
  rollback(id: string, opts: { reason: string; dryRun?: boolean }): Promise<ManualRollbackOutcome> {
    return rollbackToPoint({
      points: this.#rollbacks,
      store: this.#store,
      clock: this.#clock,
      host: this.#config.host,
      id,
      reason: opts.reason,
      dryRun: opts.dryRun,
    });
  }

  /** Deletes rollback points older than `days` days and the blobs only they used. */
  cleanupRollbacks(days: number): Promise<RetentionResult> {
    return this.#rollbacks.cleanup(days * 86_400_000);
  }

  on<E extends keyof EngineEvents>(event: E, fn: (...args: EngineEvents[E]) => void): this {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    this.#engine.on(event, fn as any);
    return this;
  }
}

export function createCaretaker(opts: CaretakerOptions): Caretaker {
  return new Caretaker(opts);
}
