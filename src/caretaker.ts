/**
 * The facade: one object that holds the configuration, the store and the engine, for the CLI,
 * the daemon and any Node service that embeds caretaker. Wiring and one-line forwards only; the
 * rules live in the layers below. The store, the engine and the alerting are built on first use
 * (and their modules loaded then), so a command that only reads loads only what it reads.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { builtinRegistry } from './actions/builtin.js';
import type { ActionRegistry } from './actions/registry.js';
import type { AnyAction } from './actions/types.js';
import {
  loadConfigFile,
  loadConfigFileAsync,
  parseConfigText,
  parseConfigTextAsync,
  type LoadOptions,
} from './config/load.js';
import type { Config, TaskConfig } from './config/types.js';
import type { Clock } from './core/clock.js';
import type { ExportFormat } from './core/dataset.js';
import type { PriorityBreakdown } from './core/priority.js';
import type { WrittenFile } from './actions/export-files.js';
import type { AccessControl } from './engine/access-control.js';
import type { BrowserSessions } from './engine/browser-sessions.js';
import type { DeadManWatch, WatchStatus } from './engine/dead-man-watch.js';
import type { DaySeries, HistoryFilter, HistoryPage } from './engine/dashboard-views.js';
import type { LiveOutput, OutputEvent } from './engine/live-output.js';
import type { Engine, EngineEvents } from './engine/engine.js';
import type { HolderInfo, StateLock } from './engine/state-lock.js';
import type { ManualRollbackOutcome } from './engine/manual-rollback.js';
import type { ManualRunOptions } from './engine/manual-run.js';
import type { PauseOptions } from './engine/task-pauses.js';
import type { Supervision } from './engine/supervision.js';
import type { MetricsTextfile } from './engine/metrics-textfile.js';
import type { StoreHealth } from './engine/store-health.js';
import type { Signal } from './notify/incidents.js';
import { upcomingRuns, type TaskSummary, type UpcomingRun } from './engine/task-overview.js';
import type { HostSummary } from './engine/fleet-overview.js';
import type { HealthReport } from './report/health-report.js';
import type { MetricsReport } from './report/metrics.js';
import type { HostMetricsReport } from './report/host-metrics.js';
import type { CopyOutcome } from './store/copy-history.js';
import type { SummaryReport } from './report/summary-report.js';
import type { TestOutcome } from './notify/notifier.js';
import type { PointSummary } from './safety/rollback-manifest.js';
import type { RetentionResult, RollbackPoints } from './safety/rollback-points.js';
import type {
  DeliveryRecord,
  DeliveryStatus,
  IncidentRecord,
  PauseRecord,
  PingRecord,
  PruneResult,
  LastRunsQuery,
  RunBrief,
  RunQuery,
  RunRecord,
  Store,
} from './store/types.js';
import { SystemClock } from './engine/clock.js';
import { silentLogger } from './engine/silent-logger.js';
import { VERSION } from './version.js';

export type { Config, MissedPolicy, OverlapPolicy, RetryPolicy, TaskConfig } from './config/types.js';
export type { EngineEvents } from './engine/engine.js';
export type { HolderInfo } from './engine/state-lock.js';
export type { DaySeries, HistoryFilter, HistoryPage } from './engine/dashboard-views.js';
export type { OutputChunk, OutputEvent } from './engine/live-output.js';
export type { ManualRunOptions } from './engine/manual-run.js';
export type { PauseOptions } from './engine/task-pauses.js';
export type { TaskSummary, UpcomingRun } from './engine/task-overview.js';
export type { HostSummary, HostState } from './engine/fleet-overview.js';
export type { WatchStatus } from './engine/dead-man-watch.js';
export type {
  AccessControl,
  AuditEntry,
  Authentication,
  Principal,
  TokenView,
} from './engine/access-control.js';
export type { BrowserSessions, Login, SessionCheck } from './engine/browser-sessions.js';
export type { TokenRole } from './core/access-roles.js';
export type { PriorityBreakdown } from './core/priority.js';
export type { Progress } from './core/action-result.js';
export type { HealthReport } from './report/health-report.js';
export type { MetricsReport } from './report/metrics.js';
export type { HostMetricsReport } from './report/host-metrics.js';
export type { CopyCounts, CopyOutcome } from './store/copy-history.js';
export type { SummaryReport } from './report/summary-report.js';
export type { TestOutcome } from './notify/notifier.js';
export type { PointSummary } from './safety/rollback-manifest.js';
export type { WrittenFile } from './actions/export-files.js';
export type {
  AuditRecord,
  IncidentRecord,
  PauseRecord,
  PingRecord,
  RunBrief,
  RunRecord,
  RunStatus,
  RunTrigger,
} from './store/types.js';
export { FAILURE_STATUSES, RUN_STATUSES, SUCCESS_STATUSES } from './store/types.js';
export type { DeliveryRecord } from './store/types.js';
export { ManualClock, SystemClock } from './engine/clock.js';

/** What `copyHistoryTo` did, with where from and where to (the password masked). */
export interface CopyReport extends CopyOutcome {
  /** The SQLite file copied from. */
  readonly source: string;
  /** The PostgreSQL store copied into, its password masked. */
  readonly target: string;
}

export interface CaretakerOptions {
  /** A path to caretaker.yaml. */
  readonly configPath?: string;
  /** Or the YAML text itself (relative paths resolve against `baseDir`, default the cwd). */
  readonly configText?: string;
  readonly baseDir?: string;
  readonly clock?: Clock;
  /** A logger, or one made from the loaded configuration (the daemon's log file). */
  readonly logger?: Logger | ((config: Config) => Logger);
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
  /**
   * How long a scheduler's store may be unreachable before the `store_unavailable` incident
   * opens (the daemon takes CARETAKER_STORE_UNREACHABLE_GRACE_MS). @default 60s
   */
  readonly storeUnreachableGraceMs?: number;
}

/** What the engine is doing right now (empty before it starts). */
export interface EngineStatus {
  readonly startedAt: number | null;
  readonly lastPassAt: number | null;
  readonly running: RunRecord[];
  readonly queued: RunRecord[];
  readonly upcoming: UpcomingRun[];
}

/** Whether the store can be reached, for `caretaker status`. */
export interface StoreStatus {
  readonly reachable: boolean;
  /** Since when it cannot be reached (ms since the epoch), or null. */
  readonly unreachableSince: number | null;
  /** History writes waiting for it (spooled under the state dir for PostgreSQL). */
  readonly waiting: number;
}

/** Waits between attempts to open an unreachable store at start (the last one repeats). */
const STORE_RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/** The incident of an unreachable store (one per daemon). */
const STORE_INCIDENT = 'daemon:store_unavailable';

const ENGINE_EVENTS = [
  'run:queued',
  'run:started',
  'run:finished',
  'run:missed',
  'run:progress',
  'run:output',
  'error',
] as const;

export class Caretaker {
  readonly #registry: ActionRegistry;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #opts: CaretakerOptions;
  readonly #events = new EventEmitter();
  #config: Config;
  #store: Promise<Store> | null = null;
  #rollbacks: Promise<RollbackPoints> | null = null;
  #engine: Promise<Engine> | null = null;
  #supervision: Promise<Supervision> | null = null;
  #lock: StateLock | null = null;
  #live: Engine | null = null;
  #health: StoreHealth | null = null;
  /** The output of runs in progress here, for the dashboard to follow (built with the engine). */
  #output: LiveOutput | null = null;
  #access: Promise<AccessControl> | null = null;
  #sessions: Promise<BrowserSessions> | null = null;
  #textfile: MetricsTextfile | null = null;

  /**
   * Made by `openCaretaker` (the declarations the config names, imported on demand) or by the
   * library's `createCaretaker` (create-caretaker.ts: every declaration, synchronously).
   */
  constructor(opts: CaretakerOptions, prepared: PreparedCaretaker) {
    this.#opts = opts;
    this.#registry = prepared.registry;
    this.#config = prepared.config;
    this.#clock = opts.clock ?? new SystemClock();
    this.#logger =
      typeof opts.logger === 'function' ? opts.logger(this.#config) : (opts.logger ?? silentLogger());
  }

  // ---- the parts, built on first use ---------------------------------------------------------

  #storeOf(): Promise<Store> {
    this.#store ??= (async () => {
      const [{ openStore }, { maskingStore }, { configSecretValues }] = await Promise.all([
        import('./store/open-store.js'),
        import('./engine/masking-store.js'),
        import('./engine/secret-names.js'),
      ]);
      const open = () =>
        openStore(this.#config.store, {
          readonly: this.#opts.readonly,
          deferCheckpoints: this.#opts.scheduler ?? false,
        });
      // A scheduler waits for a store that is not there yet (a database server still starting).
      const sqlite =
        this.#opts.scheduler && !this.#opts.readonly ? await this.#openWaiting(open) : await open();
      // A scheduler goes on when its disk fills or its server goes: what it cannot record waits.
      const store = this.#opts.scheduler && !this.#opts.readonly ? await this.#withBacklog(sqlite) : sqlite;
      // Secrets in a task's output, results or errors never reach the history (masked "***").
      return maskingStore(store, () => configSecretValues(this.#config));
    })();
    return this.#store;
  }

  /**
   * Opens the store, waiting with backoff while its server cannot be reached (one line per
   * attempt); any other failure (a wrong password, missing rights) is thrown at once.
   */
  async #openWaiting(open: () => Promise<Store>): Promise<Store> {
    const { StoreUnavailableError } = await import('./store/store-unavailable-error.js');
    for (let attempt = 0; ; attempt++) {
      try {
        return await open();
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        const waitMs = STORE_RETRY_MS[Math.min(attempt, STORE_RETRY_MS.length - 1)]!;
        const line = `${err.message}; retrying in ${waitMs / 1000} s`;
        process.stderr.write(`caretaker: ${line}\n`);
        this.#logger.warn({ code: err.code, attempt: attempt + 1 }, line);
        await new Promise<void>((r) => this.#clock.setTimer(r, waitMs));
      }
    }
  }

  async #withBacklog(store: Store): Promise<Store> {
    const [{ StoreBacklog }, { WriteSpool }, { join }] = await Promise.all([
      import('./engine/store-backlog.js'),
      import('./store/write-spool.js'),
      import('node:path'),
    ]);
    const say = (line: string) => void process.stderr.write(`${line}\n`);
    const signal = (sig: Signal) =>
      void this.#supervision
        ?.then((s) => s.notifier.signal(sig))
        .catch((err: unknown) => this.#logger.error({ err }, 'could not raise the store incident'));
    // A server that goes away is not the disk of this host: its writes wait in a file here.
    const remote = store.kind === 'postgres';
    const backlog = new StoreBacklog(store, {
      clock: this.#clock,
      logger: this.#logger,
      say,
      alert: (message) =>
        void this.#supervision
          ?.then((s) => s.notifier.direct('failure', { kind: 'daemon', id: this.#config.host }, message))
          .catch((err: unknown) => this.#logger.error({ err }, 'could not send the full-disk alert')),
      spool: remote ? new WriteSpool(join(this.#config.stateDir, 'store-spool.sqlite')) : undefined,
      unavailableGraceMs: this.#opts.storeUnreachableGraceMs,
      storeLabel: remote ? `store ${(store as { displayUrl?: string }).displayUrl ?? ''}`.trim() : undefined,
      incident: {
        open: (message) =>
          signal({
            kind: 'problem',
            key: STORE_INCIDENT,
            subject: { kind: 'daemon', id: this.#config.host },
            event: 'store_unavailable',
            level: 'fail',
            message,
          }),
        close: (message) => signal({ kind: 'clear', key: STORE_INCIDENT, message }),
      },
    });
    this.#health = backlog;
    if (backlog.waiting > 0) {
      // A restart during an outage: what the last process spooled goes in before anything new.
      say(`caretaker: writing ${backlog.waiting} history writes spooled before this start`);
      await backlog.flush();
    }
    return backlog.store;
  }

  /** Tokens and the audit log (engine/access-control.ts), on this caretaker's store and clock. */
  access(): Promise<AccessControl> {
    this.#access ??= (async () => {
      const [{ AccessControl }, store] = await Promise.all([
        import('./engine/access-control.js'),
        this.#storeOf(),
      ]);
      return new AccessControl({
        store,
        clock: this.#clock,
        knownTargets: () => [
          ...this.#config.tasks.map((t) => t.id),
          ...this.#config.alerting.watches.map((w) => w.name),
        ],
        // The variable is read at each check: set or changed for a restart, it is what counts.
        legacyToken: () => ({
          env: this.#config.server.tokenEnv,
          value: process.env[this.#config.server.tokenEnv],
        }),
      });
    })();
    return this.#access;
  }

  /** The dashboard's browser sessions (engine/browser-sessions.ts), in this process's memory. */
  sessions(): Promise<BrowserSessions> {
    this.#sessions ??= (async () => {
      const [{ BrowserSessions }, access] = await Promise.all([
        import('./engine/browser-sessions.js'),
        this.access(),
      ]);
      return new BrowserSessions(access, this.#clock);
    })();
    return this.#sessions;
  }

  #rollbacksOf(): Promise<RollbackPoints> {
    this.#rollbacks ??= (async () => {
      const [{ RollbackPoints }, { PathGuard }] = await Promise.all([
        import('./safety/rollback-points.js'),
        import('./safety/path-guard.js'),
      ]);
      const c = this.#config;
      return new RollbackPoints({
        stateDir: c.stateDir,
        host: c.host,
        clock: this.#clock,
        guard: new PathGuard({ stateDir: c.stateDir }),
        maxPoints: c.rollback.maxPoints,
        maxBytes: c.rollback.maxBytes,
      });
    })();
    return this.#rollbacks;
  }

  #engineOf(): Promise<Engine> {
    this.#engine ??= (async () => {
      const [{ Engine }, { saveHealthReportOf }, { LiveOutput }, store, rollbacks] = await Promise.all([
        import('./engine/engine.js'),
        import('./engine/health-runs.js'),
        import('./engine/live-output.js'),
        this.#storeOf(),
        this.#rollbacksOf(),
      ]);
      const engine = new Engine({
        rollbacks,
        storeHealth: this.#health ?? undefined,
        config: this.#config,
        store,
        registry: this.#registry,
        clock: this.#clock,
        logger: this.#logger,
      });
      for (const name of ENGINE_EVENTS)
        engine.on(name, (...args: unknown[]) => this.#events.emit(name, ...args));
      const output = (this.#output = new LiveOutput());
      engine.on('run:started', (run) => output.started(run.id));
      engine.on('run:output', (o) => output.write(o.runId, o.text));
      engine.on('run:finished', (run) => output.finished(run.id));
      if (!this.#opts.readonly)
        engine.on('run:finished', (run) => saveHealthReportOf(this.#config, run, this.#logger));
      return engine;
    })();
    return this.#engine;
  }

  #supervisionOf(): Promise<Supervision> {
    this.#supervision ??= (async () => {
      const [{ Supervision }, store, engine] = await Promise.all([
        import('./engine/supervision.js'),
        this.#storeOf(),
        this.#engineOf(),
      ]);
      return new Supervision({
        config: this.#config,
        store,
        clock: this.#clock,
        logger: this.#logger,
        engine,
      });
    })();
    return this.#supervision;
  }

  /** The engine when it is scheduling (started), else null. */
  #running(): Engine | null {
    return this.#live;
  }

  get config(): Config {
    return this.#config;
  }

  get logger(): Logger {
    return this.#logger;
  }

  get actions(): readonly AnyAction[] {
    return this.#registry.all();
  }

  /** When scheduling started (null when this instance does not schedule). */
  get startedAt(): number | null {
    return this.#live?.startedAt ?? null;
  }

  // ---- life cycle ----------------------------------------------------------------------------

  /** Takes the state dir's lock and starts scheduling. */
  async start(holder: Partial<HolderInfo> = {}): Promise<void> {
    const { StateLock } = await import('./engine/state-lock.js');
    this.#lock = new StateLock(this.#config.stateDir);
    this.#lock.acquire({
      pid: process.pid,
      host: this.#config.host,
      startedAt: this.#clock.now(),
      version: VERSION,
      config: this.#config.file,
      ...holder,
    });
    const engine = await this.#engineOf();
    const supervision = await this.#supervisionOf();
    try {
      // Alerts first: runs the engine finds interrupted at recovery are failures to tell about.
      await supervision.start();
      await engine.start();
    } catch (err) {
      await supervision.stop();
      this.#lock.release();
      throw err;
    }
    this.#live = engine;
    await this.#startTextfile(engine);
    this.#logger.info(
      { tasks: this.#config.tasks.length, stateDir: this.#config.stateDir, version: VERSION },
      'caretaker started',
    );
    await this.#recordLoaded();
  }

  /**
   * `metrics.textfile`: written once now and after every run that finishes (the path is read at
   * each write, so a reload that sets or removes it takes effect at the next run).
   */
  async #startTextfile(engine: Engine): Promise<void> {
    const { MetricsTextfile } = await import('./engine/metrics-textfile.js');
    const textfile = new MetricsTextfile({
      text: () => this.prometheusMetrics(),
      path: () => this.#config.metrics.textfile,
      logger: this.#logger,
    });
    this.#textfile = textfile;
    engine.on('run:finished', () => void textfile.update());
    await textfile.update();
  }

  /** Lets `caretaker validate` (and read-only commands) see what changed in the file since. */
  async #recordLoaded(): Promise<void> {
    if (this.#opts.configPath === undefined) return;
    try {
      const { recordLoadedConfig } = await import('./config/own-config-check.js');
      await recordLoadedConfig(this.#config.file, this.#config.stateDir, this.#clock.now());
    } catch (err) {
      this.#logger.warn({ err }, 'could not record the loaded configuration for drift reports');
    }
  }

  /** Stops scheduling, lets running tasks finish (up to the shutdown grace), releases the lock. */
  async stop(graceMs?: number): Promise<void> {
    if (this.#engine) await (await this.#engine).stop(graceMs);
    // The runs the stop ended are in the textfile before the store closes.
    if (this.#textfile) await this.#textfile.update();
    if (this.#supervision) await (await this.#supervision).stop();
    this.#live = null;
    this.#lock?.release();
    await this.close();
    this.#logger.info('caretaker stopped');
  }

  /** Closes the store without scheduling having started (CLI use). */
  async close(): Promise<void> {
    if (this.#store) await (await this.#store).close();
  }

  updateHolder(holder: HolderInfo): void {
    this.#lock?.update(holder);
  }

  /**
   * Re-reads the configuration file (or takes new text, for a caretaker made from text); a broken
   * configuration throws and the running one stays.
   */
  async reload(from: { configText?: string } = {}): Promise<Config> {
    const next = await loadCaretakerConfigAsync({ ...this.#opts, ...from }, this.#registry);
    if (
      next.stateDir !== this.#config.stateDir ||
      JSON.stringify(next.store) !== JSON.stringify(this.#config.store)
    ) {
      this.#logger.warn('state_dir and store changes take effect at the next start');
    }
    if (this.#engine) await (await this.#engine).reload(next);
    if (this.#supervision) await (await this.#supervision).reload(next);
    if (this.#rollbacks) (await this.#rollbacks).setLimits(next.rollback);
    this.#config = next;
    await this.#recordLoaded();
    return next;
  }

  /** The daemon's heartbeat file (`caretaker status` reads it), while scheduling. */
  async startHeartbeat(): Promise<void> {
    (await this.#supervisionOf()).startHeartbeat(this.#config.stateDir);
  }

  on<E extends keyof EngineEvents>(event: E, fn: (...args: EngineEvents[E]) => void): this {
    this.#events.on(event, fn as (...args: unknown[]) => void);
    return this;
  }

  // ---- runs ----------------------------------------------------------------------------------

  /**
   * Runs a task now (see engine/manual-run.ts: a disabled task needs `force`; its window does not
   * hold it back; `retries` apply unless `retry: false`). By default waits for the run — and its
   * retries — to finish and returns the final record.
   */
  async runNow(taskId: string, opts: ManualRunOptions & { wait?: boolean } = {}): Promise<RunRecord> {
    const [engine, { checkManualRun }] = await Promise.all([
      this.#engineOf(),
      import('./engine/manual-run.js'),
    ]);
    const task = this.#taskOf(taskId);
    const pause =
      task && !opts.force && !opts.dryRun
        ? (await (await this.#storeOf()).listPauses()).find((p) => p.task === taskId)
        : undefined;
    checkManualRun(task, opts, pause);
    const run = await engine.runNow(taskId, { dryRun: opts.dryRun, retry: opts.retry });
    return opts.wait === false ? run : engine.waitForRun(run.id, { followRetries: true });
  }

  /** One line to tell whoever runs the task by hand now (outside its window), or null. */
  async manualRunNotice(taskId: string): Promise<string | null> {
    const { windowNotice } = await import('./engine/manual-run.js');
    return windowNotice(this.#taskOf(taskId), this.#clock.now());
  }

  /** Resolves with the run's final record; with `followRetries`, that of its last retry. */
  async waitForRun(runId: number, opts: { followRetries?: boolean } = {}): Promise<RunRecord> {
    return (await this.#engineOf()).waitForRun(runId, opts);
  }

  #taskOf(id: string) {
    return this.#config.tasks.find((t) => t.id === id);
  }

  /** Cancels a queued or running run; false when it is neither. */
  async cancel(runId: number, reason: string): Promise<boolean> {
    return (await this.#engineOf()).cancel(runId, reason);
  }

  /**
   * Follows the output of a run in progress on this daemon from byte `offset` (see
   * engine/live-output.ts); null when it is not running here (its stored tail is all there is).
   */
  followOutput(runId: number, offset: number, listener: (e: OutputEvent) => void) {
    return this.#output?.follow(runId, offset, listener) ?? null;
  }

  /** One page of history with the dashboard's filters (engine/dashboard-views.ts). */
  async historyPage(filter: HistoryFilter): Promise<HistoryPage> {
    const { filteredHistory } = await import('./engine/dashboard-views.js');
    return filteredHistory(await this.#storeOf(), filter);
  }

  /** A task's configuration for a page: its options with secrets masked, its next fire times. */
  async taskView(
    taskId: string,
    fires = 5,
  ): Promise<{ task: TaskConfig; options: unknown; nextFires: number[] } | undefined> {
    const { maskedOptions, nextFires } = await import('./engine/dashboard-views.js');
    const task = this.#taskOf(taskId);
    if (!task) return undefined;
    return {
      task,
      options: maskedOptions(this.#config, task),
      nextFires: nextFires(task, this.#clock.now(), fires),
    };
  }

  /** Per-day successes, failures and average duration of a task over the last `days` days. */
  async taskDays(taskId: string, days = 30): Promise<DaySeries> {
    const [{ daySeries }, store] = await Promise.all([
      import('./engine/dashboard-views.js'),
      this.#storeOf(),
    ]);
    const now = this.#clock.now();
    const today = Math.floor(now / 86_400_000);
    return daySeries(await store.dailyStats(today - days + 1, taskId), days, now);
  }

  /** The clock this instance reads (the dashboard shows "now" with it). */
  now(): number {
    return this.#clock.now();
  }

  async getRun(runId: number): Promise<RunRecord | undefined> {
    return (await this.#storeOf()).getRun(runId);
  }

  engineStatus(): EngineStatus {
    const e = this.#running();
    return {
      startedAt: e?.startedAt ?? null,
      lastPassAt: e?.lastPassAt ?? null,
      running: e?.running() ?? [],
      queued: e?.queued() ?? [],
      upcoming: e ? upcomingRuns(this.#config, e) : [],
    };
  }

  /** Whether the store can be reached (always, for a store without a backlog). */
  storeStatus(): StoreStatus {
    const h = this.#health;
    return {
      reachable: h?.reachable ?? true,
      unreachableSince: h?.unreachableSince ?? null,
      waiting: h?.waiting ?? 0,
    };
  }

  async history(query: Partial<RunQuery> = {}): Promise<RunRecord[]> {
    return (await this.#storeOf()).listRuns({ limit: 20, ...query });
  }

  /** The last runs of each of the tasks, in one store query (the overview's sparklines). */
  async lastRuns(query: LastRunsQuery): Promise<Map<string, RunBrief[]>> {
    return (await this.#storeOf()).lastRunsOfTasks(query);
  }

  async metrics(days = 30): Promise<MetricsReport> {
    const [{ computeMetrics }, store] = await Promise.all([import('./report/metrics.js'), this.#storeOf()]);
    const today = Math.floor(this.#clock.now() / 86_400_000);
    return computeMetrics(await store.dailyStats(today - days + 1), days, today);
  }

  /**
   * The Prometheus text exposition of this host (GET /metrics, the metrics textfile), read from
   * the store now: see engine/prometheus-metrics.ts.
   */
  async prometheusMetrics(): Promise<string> {
    const [{ prometheusText }, store] = await Promise.all([
      import('./engine/prometheus-metrics.js'),
      this.#storeOf(),
    ]);
    return prometheusText({
      config: this.#config,
      store,
      engine: this.#running(),
      version: VERSION,
      paused: new Set((await this.pauses()).map((p) => p.task)),
    });
  }

  /**
   * Figures per task and host over the last `days` days, from the runs kept (the daily rollup
   * has no host): `caretaker metrics --by-host`.
   */
  async metricsByHost(days = 30): Promise<HostMetricsReport> {
    const [{ computeHostMetrics }, store] = await Promise.all([
      import('./report/host-metrics.js'),
      this.#storeOf(),
    ]);
    const today = Math.floor(this.#clock.now() / 86_400_000);
    return computeHostMetrics(await store.runFigures((today - days + 1) * 86_400_000), days, today);
  }

  /**
   * Copies this configuration's SQLite history into the PostgreSQL store at `to.url` (schema
   * `to.schema`, default `caretaker`): `caretaker store copy`. Idempotent and resumable (see
   * store/copy-history.ts). UsageError when the history is not on SQLite, there is none, or the
   * URL is not postgres://; StoreOpenError when the target cannot be opened.
   */
  async copyHistoryTo(
    to: { readonly url: string; readonly schema?: string },
    opts: { readonly batchSize?: number; readonly onBatch?: (copiedSoFar: number) => void } = {},
  ): Promise<CopyReport> {
    const [{ UsageError }, { redactUrl }, { isPostgresUrl, storeLabel, DEFAULT_PG_SCHEMA }] =
      await Promise.all([
        import('./errors/usage-error.js'),
        import('./core/redact-url.js'),
        import('./config/state-paths.js'),
      ]);
    const from = this.#config.store;
    if (from.kind !== 'sqlite')
      throw new UsageError(
        `the history of ${this.#config.file} is already on PostgreSQL (${storeLabel(from)}); store copy copies a SQLite history`,
      );
    if (!isPostgresUrl(to.url))
      throw new UsageError(`--to: expected a postgres:// URL, got "${redactUrl(to.url)}"`);
    const { existsSync } = await import('node:fs');
    if (!existsSync(from.path))
      throw new UsageError(
        `no history to copy: ${from.path} does not exist (nothing has run with this configuration)`,
      );
    const [{ copyHistory, copyFaultsFromEnv }, { isHistoryExport, isHistoryImport }, { openStore }] =
      await Promise.all([
        import('./store/copy-history.js'),
        import('./store/copy-roles.js'),
        import('./store/open-store.js'),
      ]);
    const source = await this.#storeOf();
    if (!isHistoryExport(source)) throw new Error(`the ${source.kind} store cannot be copied from`);
    if ((await source.runsAfter(0, 1)).length === 0 && (await source.dailyStats(0)).length === 0)
      throw new UsageError(`no history to copy: ${from.path} holds no runs`);
    const schema = to.schema ?? DEFAULT_PG_SCHEMA;
    const target = await openStore({ kind: 'postgres', url: to.url, schema });
    try {
      if (!isHistoryImport(target)) throw new Error(`the ${target.kind} store cannot be copied into`);
      const outcome = await copyHistory(source, target, { ...opts, faults: copyFaultsFromEnv() });
      return { ...outcome, source: from.path, target: storeLabel({ kind: 'postgres', url: to.url, schema }) };
    } finally {
      await target.close();
    }
  }

  /** Deletes runs older than `keepDays` days (and beyond the per-task cap of the configuration). */
  async pruneHistory(keepDays: number): Promise<PruneResult> {
    return (await this.#storeOf()).prune({
      now: this.#clock.now(),
      keepDays,
      keepRunsPerTask: this.#config.history.keepRunsPerTask,
    });
  }

  async priority(taskId: string): Promise<PriorityBreakdown> {
    const { taskPriority } = await import('./engine/task-overview.js');
    return taskPriority(await this.#overviewInput(), taskId);
  }

  /** The hosts of the fleet (one, on a SQLite store): up, lost or stopped, and what each runs. */
  async hosts(): Promise<HostSummary[]> {
    const { fleetOverview } = await import('./engine/fleet-overview.js');
    return fleetOverview(await this.#storeOf(), this.#clock.now());
  }

  /** Every task with its schedule, next due instant, last result, priority score and pause. */
  async tasks(): Promise<TaskSummary[]> {
    const { taskSummaries } = await import('./engine/task-overview.js');
    return taskSummaries(await this.#overviewInput());
  }

  async #overviewInput() {
    return {
      config: this.#config,
      store: await this.#storeOf(),
      engine: this.#running(),
      now: this.#clock.now(),
    };
  }

  // ---- pauses --------------------------------------------------------------------------------

  /**
   * Pauses a task (see engine/task-pauses.ts): kept in the store, so a restart or reload keeps
   * it (and every host of a fleet sees it); its schedule slots are recorded as skipped until
   * resumed. `by` defaults to this process's Unix user. `paused: false` when it already was.
   */
  async pauseTask(
    taskId: string,
    opts: PauseOptions = {},
  ): Promise<{ paused: boolean; record: PauseRecord }> {
    const [{ pauseTask }, store] = await Promise.all([import('./engine/task-pauses.js'), this.#storeOf()]);
    const out = await pauseTask({ config: this.#config, store, clock: this.#clock }, taskId, opts);
    // This process's engine holds the task back at once; other hosts of a fleet within a second.
    await this.#live?.refreshPauses();
    return out;
  }

  /** Resumes a paused task: its next slot runs as scheduled. `resumed: false` when it was not paused. */
  async resumeTask(taskId: string): Promise<{ resumed: boolean; record: PauseRecord | null }> {
    const [{ resumeTask }, store] = await Promise.all([import('./engine/task-pauses.js'), this.#storeOf()]);
    const out = await resumeTask({ config: this.#config, store, clock: this.#clock }, taskId);
    await this.#live?.refreshPauses();
    return out;
  }

  /** Every paused task, by task id (a pause of a task since removed from the file included). */
  async pauses(): Promise<PauseRecord[]> {
    return (await this.#storeOf()).listPauses();
  }

  // ---- health, alerts, reports ---------------------------------------------------------------

  /** The health tasks (all enabled ones, or these ids), checked against the configuration. */
  async healthTasks(ids: readonly string[] = []): Promise<string[]> {
    return (await import('./engine/health-runs.js')).healthTaskIds(this.#config, ids);
  }

  /** Runs the health tasks now (recorded like any run) and returns their report. */
  async health(ids: readonly string[] = []): Promise<HealthReport> {
    const tasks = await this.healthTasks(ids);
    // Health checks named or enabled: asked for explicitly, as before.
    const runs = await Promise.all(tasks.map((id) => this.runNow(id, { force: true, retry: false })));
    return this.healthReport(runs);
  }

  /** The report of finished health runs (run here or by the daemon). */
  async healthReport(runs: readonly RunRecord[]): Promise<HealthReport> {
    const { healthReportOf } = await import('./report/health-report.js');
    return healthReportOf(runs, this.#config.host, this.#clock.now());
  }

  /** The watches: the running scheduler's, or loaded from the store for this call. */
  async #watch(): Promise<DeadManWatch> {
    const supervision = this.#live ? await this.#supervisionOf() : null;
    if (supervision?.running) return supervision.watch;
    const { DeadManWatch } = await import('./engine/dead-man-watch.js');
    const watch = new DeadManWatch({
      store: await this.#storeOf(),
      clock: this.#clock,
      logger: this.#logger,
      timezone: this.#config.timezone,
    });
    await watch.reload(this.#config.alerting.watches);
    return watch;
  }

  /** Records a dead-man ping (`caretaker ping NAME`). */
  async ping(
    name: string,
    opts: { ok?: boolean; message?: string; source?: string } = {},
  ): Promise<PingRecord> {
    return (await this.#watch()).ping(name, opts.ok ?? true, opts);
  }

  /** Every watch with its last ping and deadline. */
  async watches(): Promise<WatchStatus[]> {
    return (await this.#watch()).status();
  }

  async incidents(q: { open?: boolean; limit?: number } = {}): Promise<IncidentRecord[]> {
    return (await this.#storeOf()).listIncidents({ open: q.open, limit: q.limit ?? 100 });
  }

  async deliveries(
    q: { status?: DeliveryStatus; incidentId?: number; limit?: number } = {},
  ): Promise<DeliveryRecord[]> {
    return (await this.#storeOf()).listDeliveries({ ...q, limit: q.limit ?? 100 });
  }

  /** Resolves once every alert in flight was delivered or given up. */
  async alertsIdle(): Promise<void> {
    if (this.#supervision) await (await this.#supervision).notifier.idle();
  }

  /** Sends a test alert through every configured channel (or one). */
  async testChannels(channel?: string): Promise<TestOutcome[]> {
    return (await this.#supervisionOf()).testChannels(channel);
  }

  /** Runs, success rates, failures, backups, incidents, watches and disk forecast over N days. */
  async summaryReport(days = 7): Promise<SummaryReport> {
    const [{ gatherSummary }, store] = await Promise.all([
      import('./report/summary-report.js'),
      this.#storeOf(),
    ]);
    return gatherSummary({
      store,
      host: this.#config.host,
      now: this.#clock.now(),
      days,
      tasks: this.#config.tasks,
      watches: this.#config.alerting.watches,
    });
  }

  /** History, metrics and incidents of the last N days as files in `dir` (`caretaker export`). */
  async exportRecords(r: {
    dir: string;
    formats: readonly ExportFormat[];
    days: number;
  }): Promise<WrittenFile[]> {
    const { exportRecords } = await import('./engine/export-records.js');
    return exportRecords(await this.#storeOf(), this.#config.stateDir, this.#clock.now(), r);
  }

  // ---- rollback points -------------------------------------------------------------------------

  /** Rollback points, newest first. */
  async listRollbacks(filter: { task?: string } = {}): Promise<PointSummary[]> {
    return (await this.#rollbacksOf()).list(filter);
  }

  /**
   * Restores a rollback point (after verifying it) and records the rollback in the task's history
   * with its reason. A point of the current state is taken first: roll back to it to undo this.
   */
  async rollback(id: string, opts: { reason: string; dryRun?: boolean }): Promise<ManualRollbackOutcome> {
    const { rollbackToPoint } = await import('./engine/manual-rollback.js');
    return rollbackToPoint({
      points: await this.#rollbacksOf(),
      store: await this.#storeOf(),
      clock: this.#clock,
      host: this.#config.host,
      id,
      reason: opts.reason,
      dryRun: opts.dryRun,
    });
  }

  /** Deletes rollback points older than `days` days and the blobs only they used. */
  async cleanupRollbacks(days: number): Promise<RetentionResult> {
    return (await this.#rollbacksOf()).cleanup(days * 86_400_000);
  }
}

/** A registry and the configuration loaded with it. */
export interface PreparedCaretaker {
  readonly registry: ActionRegistry;
  readonly config: Config;
}

/**
 * The facade for the command line and the daemon: the configuration is loaded with only the
 * declarations of the actions it names (the library's synchronous `createCaretaker` imports all).
 */
export async function openCaretaker(opts: CaretakerOptions): Promise<Caretaker> {
  const registry = builtinRegistry(opts.actions ?? []);
  return new Caretaker(opts, { registry, config: await loadCaretakerConfigAsync(opts, registry) });
}

function loadInput(opts: CaretakerOptions, registry: ActionRegistry): [string, LoadOptions, boolean] {
  const lo = { registry, host: opts.host };
  if (opts.configText !== undefined) return [`${opts.baseDir ?? process.cwd()}/caretaker.yaml`, lo, true];
  if (!opts.configPath) throw new Error('createCaretaker needs configPath or configText');
  return [opts.configPath, lo, false];
}

/** The configuration of these options, with a registry that holds every declaration it names. */
export function loadCaretakerConfig(opts: CaretakerOptions, registry: ActionRegistry): Config {
  const [file, lo, text] = loadInput(opts, registry);
  return text ? parseConfigText(opts.configText!, file, lo) : loadConfigFile(file, lo);
}

async function loadCaretakerConfigAsync(opts: CaretakerOptions, registry: ActionRegistry): Promise<Config> {
  const [file, lo, text] = loadInput(opts, registry);
  return text ? parseConfigTextAsync(opts.configText!, file, lo) : loadConfigFileAsync(file, lo);
}
