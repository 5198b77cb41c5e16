/**
 * The default store: one SQLite file (WAL) under the state dir, through the driver seam
 * (node:sqlite or better-sqlite3, see driver.ts). One repository per role does the SQL; this
 * class opens the file, migrates it, and gives the roles the async Store interface shared with
 * networked stores. Writes that fail for lack of disk space throw StoreFullError and leave the
 * connection usable: each write is one statement or one transaction, rolled back on failure.
 */
import { pruneStore } from '../prune.js';
import { sortSlots } from '../fleet-rows.js';
import type {
  SlotKey,
  AuditRecord,
  ClaimRecord,
  DailyStats,
  DeliveryRecord,
  DeliveryStatus,
  HostRecord,
  HostRegistration,
  IncidentRecord,
  NewRun,
  NewToken,
  PauseRecord,
  PingRecord,
  PruneOptions,
  PruneResult,
  LastRunsQuery,
  RecentRuns,
  RunBrief,
  RunFinish,
  RunFigure,
  RunTotal,
  RunQuery,
  RunRecord,
  SampleInput,
  SampleKey,
  SamplePoint,
  StartGuard,
  Store,
  TaskState,
  TokenRecord,
} from '../types.js';
import type { HistoryExport, HostTaskState } from '../copy-roles.js';
import { AccessRepo } from './access-repo.js';
import { AlertsRepo } from './alerts-repo.js';
import type { SqliteDatabase, SqliteDriverName } from './driver.js';
import { FleetRepo } from './fleet-repo.js';
import { guardWrite, openHistory } from './history-open.js';
import { ExportRepo } from './export-repo.js';
import { MetaRepo } from './meta-repo.js';
import { PausesRepo } from './pauses-repo.js';
import { RunsRepo } from './runs-repo.js';
import { SamplesRepo } from './samples-repo.js';
import { StatsRepo } from './stats-repo.js';

export { StoreOpenError } from '../store-open-error.js';

export interface SqliteStoreOptions {
  /**
   * Only read (reports from a CLI, perhaps by a user who may not write the state dir). A missing
   * database reads as an empty history, and nothing is created. @default false
   */
  readonly readonly?: boolean;
  /**
   * Checkpoint the WAL only in housekeep() (the engine calls it when idle) instead of inside
   * whichever commit crosses 1,000 pages: a checkpoint fsyncs, and must not delay a run's start.
   */
  readonly deferCheckpoints?: boolean;
  /** The SQLite driver (default: the one chosen for this Node, see driver.ts). */
  readonly driver?: SqliteDriverName;
}

/** With deferred checkpoints, still checkpoint after this many writes so the WAL stays bounded. */
const MAX_WRITES_BEFORE_CHECKPOINT = 20_000;

export class SqliteStore implements Store, HistoryExport {
  readonly kind = 'sqlite';
  readonly #db: SqliteDatabase;
  readonly #runs: RunsRepo;
  readonly #stats: StatsRepo;
  readonly #samples: SamplesRepo;
  readonly #alerts: AlertsRepo;
  readonly #meta: MetaRepo;
  readonly #pauses: PausesRepo;
  readonly #export: ExportRepo;
  readonly #access: AccessRepo;
  readonly #fleet: FleetRepo;
  readonly #deferCheckpoints: boolean;
  #writes = 0;

  constructor(
    readonly path: string,
    opts: SqliteStoreOptions = {},
  ) {
    const readonly = opts.readonly ?? false;
    const db = openHistory(path, { readonly, deferCheckpoints: opts.deferCheckpoints, driver: opts.driver });
    this.#db = db;
    this.#deferCheckpoints = !readonly && (opts.deferCheckpoints ?? false);
    this.#stats = new StatsRepo(db);
    this.#runs = new RunsRepo(db, this.#stats);
    this.#samples = new SamplesRepo(db);
    this.#alerts = new AlertsRepo(db);
    this.#meta = new MetaRepo(db);
    this.#pauses = new PausesRepo(db);
    this.#export = new ExportRepo(db);
    this.#fleet = new FleetRepo(db);
    this.#access = new AccessRepo(db);
  }

  /** Which SQLite driver this store runs on. */
  get driver(): SqliteDriverName {
    return this.#db.driver;
  }

  #write<T>(fn: () => T): T {
    return guardWrite(this.path, fn);
  }

  // ---- runs ---------------------------------------------------------------------------------

  async insertRun(run: NewRun): Promise<RunRecord> {
    const r = this.#write(() => this.#runs.insert(run));
    this.#wrote();
    return r;
  }

  async claimFire(task: string, host: string, fire: number): Promise<void> {
    this.#write(() => this.#runs.claimFire(task, host, fire));
  }

  async startRun(id: number, startedAt: number, pid: number): Promise<void> {
    this.#write(() => this.#runs.start(id, startedAt, pid));
  }

  /** A host's own file has no other hosts to guard against: the run starts. */
  async startRunGuarded(
    id: number,
    startedAt: number,
    pid: number,
    _guards: readonly StartGuard[],
  ): Promise<boolean> {
    await this.startRun(id, startedAt, pid);
    return true;
  }

  async finishRun(id: number, f: RunFinish): Promise<RunRecord> {
    const r = this.#write(() => this.#runs.finish(id, f));
    this.#wrote();
    return r;
  }

  async setChildProcess(id: number, pgid: number, started: string | null): Promise<void> {
    this.#write(() => this.#runs.setChildProcess(id, pgid, started));
  }

  async setNotBefore(id: number, notBefore: number): Promise<void> {
    this.#write(() => this.#runs.setNotBefore(id, notBefore));
  }

  async getRun(id: number): Promise<RunRecord | undefined> {
    return this.#runs.get(id);
  }

  async listRuns(q: RunQuery): Promise<RunRecord[]> {
    return this.#runs.list(q);
  }

  async activeRuns(host: string): Promise<RunRecord[]> {
    return this.#runs.active(host);
  }

  async taskStates(host: string): Promise<Map<string, TaskState>> {
    return this.#runs.taskStates(host);
  }

  async recentRuns(task: string, limit: number): Promise<RecentRuns> {
    return this.#runs.recent(task, limit);
  }

  async lastRunsOfTasks(q: LastRunsQuery): Promise<Map<string, RunBrief[]>> {
    return this.#runs.lastOfTasks(q);
  }

  async pruneRuns(o: { readonly before: number; readonly keepRunsPerTask: number }): Promise<number> {
    return this.#write(() => this.#runs.prune(o.before, o.keepRunsPerTask));
  }

  // ---- stats --------------------------------------------------------------------------------

  async dailyStats(sinceDay: number, task?: string): Promise<DailyStats[]> {
    return this.#stats.dailyStats(sinceDay, task);
  }

  async pruneStats(beforeDay: number): Promise<number> {
    return this.#write(() => this.#stats.prune(beforeDay));
  }

  async runFigures(since: number): Promise<RunFigure[]> {
    return this.#stats.figures(since);
  }

  async runTotals(host?: string): Promise<RunTotal[]> {
    return this.#stats.totals(host);
  }

  // ---- samples ------------------------------------------------------------------------------

  async recordSamples(task: string, at: number, samples: readonly SampleInput[]): Promise<void> {
    this.#write(() => this.#samples.record(task, at, samples));
  }

  async sampleSeries(task: string, key: string, since: number): Promise<SamplePoint[]> {
    return this.#samples.series(task, key, since);
  }

  async sampleKeys(task?: string): Promise<SampleKey[]> {
    return this.#samples.keys(task);
  }

  async pruneSamples(before: number): Promise<number> {
    return this.#write(() => this.#samples.prune(before));
  }

  // ---- alerts -------------------------------------------------------------------------------

  async openIncident(key: string): Promise<IncidentRecord | undefined> {
    return this.#alerts.openIncident(key);
  }

  async saveIncident(incident: IncidentRecord): Promise<IncidentRecord> {
    return this.#write(() => this.#alerts.saveIncident(incident));
  }

  async listIncidents(q: { open?: boolean; since?: number; limit: number }): Promise<IncidentRecord[]> {
    return this.#alerts.listIncidents(q);
  }

  async insertDelivery(d: Omit<DeliveryRecord, 'id'>): Promise<number> {
    return this.#write(() => this.#alerts.insertDelivery(d));
  }

  async updateDelivery(
    id: number,
    patch: Pick<DeliveryRecord, 'status' | 'attempts' | 'finishedAt' | 'error'> & { payload?: string | null },
  ): Promise<void> {
    this.#write(() => this.#alerts.updateDelivery(id, patch));
  }

  async listDeliveries(q: {
    status?: DeliveryStatus;
    incidentId?: number;
    since?: number;
    limit: number;
  }): Promise<DeliveryRecord[]> {
    return this.#alerts.listDeliveries(q);
  }

  async wasDelivered(incidentId: number, channel: string): Promise<boolean> {
    return this.#alerts.wasDelivered(incidentId, channel);
  }

  async recordPing(ping: PingRecord): Promise<void> {
    this.#write(() => this.#alerts.recordPing(ping));
  }

  async lastPings(): Promise<Map<string, PingRecord>> {
    return this.#alerts.lastPings();
  }

  async pruneAlerts(before: number): Promise<number> {
    return this.#write(() => this.#alerts.prune(before));
  }

  // ---- meta ---------------------------------------------------------------------------------

  async getMeta(key: string): Promise<string | undefined> {
    return this.#meta.get(key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.#write(() => this.#meta.set(key, value));
  }

  // ---- pauses -------------------------------------------------------------------------------

  async pauseTask(
    task: string,
    pause: { readonly by: string; readonly reason: string | null; readonly at: number },
  ): Promise<{ readonly paused: boolean; readonly record: PauseRecord }> {
    return this.#write(() => this.#pauses.pause(task, pause));
  }

  async resumeTask(task: string): Promise<PauseRecord | undefined> {
    return this.#write(() => this.#pauses.resume(task));
  }

  async listPauses(): Promise<PauseRecord[]> {
    return this.#pauses.list();
  }

  // ---- a copy's source (store/copy-roles.ts) ------------------------------------------------

  async sourceId(): Promise<string> {
    return this.#write(() => this.#export.sourceId());
  }

  async runsAfter(afterId: number, limit: number): Promise<RunRecord[]> {
    return this.#export.runsAfter(afterId, limit);
  }

  async allTaskStates(): Promise<HostTaskState[]> {
    return this.#export.allTaskStates();
  }

  async allPings(): Promise<PingRecord[]> {
    return this.#export.allPings();
  }

  // ---- access -------------------------------------------------------------------------------

  async insertToken(token: NewToken): Promise<TokenRecord> {
    return this.#write(() => this.#access.insert(token));
  }

  async listTokens(): Promise<TokenRecord[]> {
    return this.#access.list();
  }

  async tokenByHash(hash: string): Promise<TokenRecord | undefined> {
    return this.#access.byHash(hash);
  }

  async touchToken(name: string, at: number): Promise<void> {
    this.#write(() => this.#access.touch(name, at));
  }

  async revokeToken(name: string, at: number): Promise<TokenRecord | undefined> {
    return this.#write(() => this.#access.revoke(name, at));
  }

  async appendAudit(entry: Omit<AuditRecord, 'id'>): Promise<AuditRecord> {
    return this.#write(() => this.#access.append(entry));
  }

  async listAudit(q: { readonly since?: number; readonly limit: number }): Promise<AuditRecord[]> {
    return this.#access.listAudit(q);
  }

  // ---- fleet --------------------------------------------------------------------------------

  async registerHost(
    reg: HostRegistration,
  ): Promise<{ readonly ok: true } | { readonly ok: false; readonly holder: HostRecord }> {
    return this.#write(() => this.#fleet.register(reg));
  }

  async heartbeat(
    name: string,
    instance: string,
    now: number,
  ): Promise<{ readonly registered: boolean; readonly lost: readonly ClaimRecord[] }> {
    return this.#write(() => this.#fleet.heartbeat(name, instance, now));
  }

  async unregisterHost(name: string, instance: string, now: number): Promise<void> {
    this.#write(() => this.#fleet.unregister(name, instance, now));
  }

  async listHosts(): Promise<HostRecord[]> {
    return this.#fleet.hosts();
  }

  async claimSlot(c: {
    readonly task: string;
    readonly slot: number;
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
  }): Promise<ClaimRecord | undefined> {
    return this.#write(() => this.#fleet.claim(c));
  }

  async claimSlots(c: {
    readonly slots: readonly SlotKey[];
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
  }): Promise<SlotKey[]> {
    return this.#write(() =>
      this.#db.transaction(() => {
        const won: SlotKey[] = [];
        const passed = new Map<string, number>();
        for (const k of sortSlots(c.slots)) {
          if (this.#fleet.claim({ ...c, task: k.task, slot: k.slot })) won.push(k);
          else passed.set(k.task, Math.max(passed.get(k.task) ?? -Infinity, k.slot));
        }
        for (const [task, fire] of passed) this.#runs.claimFire(task, c.host, fire);
        return won;
      }, 'immediate'),
    );
  }

  async attachRun(task: string, slot: number, instance: string, runId: number): Promise<void> {
    this.#write(() => this.#fleet.attach(task, slot, instance, runId));
  }

  async releaseSlot(
    task: string,
    slot: number,
    instance: string,
    outcome: { readonly state: 'done' | 'skipped'; readonly reason?: string | null },
  ): Promise<void> {
    this.#write(() => this.#fleet.release(task, slot, instance, outcome));
  }

  async expiredClaims(now: number): Promise<ClaimRecord[]> {
    return this.#fleet.expired(now);
  }

  async scanClaims(
    now: number,
    asked: readonly SlotKey[],
  ): Promise<{ readonly expired: ClaimRecord[]; readonly unclaimed: SlotKey[] }> {
    return this.#fleet.scan(now, asked);
  }

  async takeOver(t: {
    readonly task: string;
    readonly slot: number;
    readonly fromInstance: string;
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
    readonly reason: string;
    readonly skip?: boolean;
  }): Promise<ClaimRecord | undefined> {
    return this.#write(() => this.#fleet.takeOver(t));
  }

  /** A host's own file: its clock is the host's. */
  async storeTime(): Promise<number> {
    return Date.now();
  }

  async adoptClaims(host: string, instance: string, now: number, leaseMs: number): Promise<ClaimRecord[]> {
    return this.#write(() => this.#fleet.adopt(host, instance, now, leaseMs));
  }

  async getClaim(task: string, slot: number): Promise<ClaimRecord | undefined> {
    return this.#fleet.get(task, slot);
  }

  async pruneClaims(before: number): Promise<number> {
    return this.#write(() => this.#fleet.prune(before));
  }

  // ---- the store as a whole -----------------------------------------------------------------

  async prune(opts: PruneOptions): Promise<PruneResult> {
    return pruneStore(this, opts);
  }

  #wrote(): void {
    if (this.#deferCheckpoints && ++this.#writes >= MAX_WRITES_BEFORE_CHECKPOINT) {
      // A checkpoint that fails (disk full) is retried by the next one; the write itself succeeded.
      this.housekeep().catch(() => {});
    }
  }

  async housekeep(): Promise<void> {
    if (!this.#deferCheckpoints || !this.#db.isOpen) return;
    if (this.#writes > 0) {
      this.#writes = 0;
      this.#write(() => this.#db.pragma('wal_checkpoint(PASSIVE)'));
    }
    // Idle until the next run: the page cache goes back to the allocator (the next query reads
    // its pages from the OS's file cache again), so an idle daemon does not hold it.
    this.#db.pragma('shrink_memory');
  }

  async close(): Promise<void> {
    try {
      await this.housekeep();
    } finally {
      this.#db.close();
    }
  }

  /** For benchmarks and tests that need to fill or inspect a database directly. */
  get database(): SqliteDatabase {
    return this.#db;
  }
}
