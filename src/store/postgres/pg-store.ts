/**
 * The PostgreSQL store: every table in a schema of its own (default `caretaker`), one repository
 * per role like the SQLite store. Opening connects, then migrates in one transaction under a
 * per-schema advisory lock: processes that open at once migrate once, and a failed open leaves
 * nothing half-migrated. Any failure to open is one StoreOpenError line with the URL's password
 * masked. Open it with `PgStore.open()` (async: it loads `pg` only then).
 */
import { redactUrl, scrubSecrets } from '../../core/redact-url.js';
import { pruneStore } from '../prune.js';
import { StoreOpenError } from '../store-open-error.js';
import { StoreUnavailableError } from '../store-unavailable-error.js';
import { unreachableCode } from './pg-errors.js';
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
import type { CopyMark, HistoryImport, HostTaskState, StatsSnapshot } from '../copy-roles.js';
import { PgAccessRepo } from './access-repo.js';
import { PgAlertsRepo } from './alerts-repo.js';
import { PgImportRepo } from './import-repo.js';
import { PgFleetRepo } from './fleet-repo.js';
import { PgMetaRepo } from './meta-repo.js';
import { PgPausesRepo } from './pauses-repo.js';
import { migrate } from './migrations.js';
import { PgDatabase } from './pg-database.js';
import { PgRunsRepo } from './runs-repo.js';
import { PgSamplesRepo } from './samples-repo.js';
import { PgStatsRepo } from './stats-repo.js';

export const DEFAULT_PG_SCHEMA = 'caretaker';

export interface PgStoreOptions {
  /** postgres://user:password@host:port/db */
  readonly url: string;
  /** The schema that holds caretaker's tables. @default 'caretaker' */
  readonly schema?: string;
  /** Connections in the pool. @default 4 */
  readonly maxConnections?: number;
}

/**
 * One line that names the store (password masked) and what went wrong (secrets scrubbed): a
 * server that is not there is StoreUnavailableError (worth waiting for); anything else (a wrong
 * password, missing rights, no such database) is StoreOpenError (exit 2, the configuration's).
 */
function openError(url: string, schema: string, err: unknown): StoreOpenError | StoreUnavailableError {
  const e = err as { message?: string; code?: string };
  const what = (e.message || e.code || String(err)).split('\n')[0]!;
  const unreachable = unreachableCode(err);
  if (unreachable !== null)
    return new StoreUnavailableError(`store ${redactUrl(url)} unreachable (${unreachable})`, unreachable, {
      cause: err,
    });
  return new StoreOpenError(
    `cannot open the PostgreSQL store ${redactUrl(url)} (schema ${schema}): ${scrubSecrets(what, url)}`,
  );
}

export class PgStore implements Store, HistoryImport {
  readonly kind = 'postgres';
  readonly #db: PgDatabase;
  readonly #runs: PgRunsRepo;
  readonly #stats: PgStatsRepo;
  readonly #samples: PgSamplesRepo;
  readonly #alerts: PgAlertsRepo;
  readonly #meta: PgMetaRepo;
  readonly #pauses: PgPausesRepo;
  readonly #import: PgImportRepo;
  readonly #access: PgAccessRepo;
  readonly #fleet: PgFleetRepo;

  private constructor(
    db: PgDatabase,
    /** The URL with its password masked, for messages. */
    readonly displayUrl: string,
    readonly schema: string,
  ) {
    this.#db = db;
    this.#runs = new PgRunsRepo(db);
    this.#stats = new PgStatsRepo(db);
    this.#samples = new PgSamplesRepo(db);
    this.#alerts = new PgAlertsRepo(db);
    this.#meta = new PgMetaRepo(db);
    this.#pauses = new PgPausesRepo(db);
    this.#import = new PgImportRepo(db);
    this.#fleet = new PgFleetRepo(db);
    this.#access = new PgAccessRepo(db);
  }

  /**
   * Connects and migrates; throws StoreOpenError (exit 2) with the password masked, or
   * StoreUnavailableError when the server cannot be reached (the caller may wait and retry).
   */
  static async open(opts: PgStoreOptions): Promise<PgStore> {
    const schema = opts.schema ?? DEFAULT_PG_SCHEMA;
    if (schema === '' || schema.length > 63)
      throw openError(opts.url, schema, 'schema name must be 1-63 characters');
    let db: PgDatabase;
    try {
      db = await PgDatabase.connect(opts.url, schema, opts.maxConnections);
    } catch (err) {
      throw openError(opts.url, schema, err);
    }
    try {
      await db.transaction((c) => migrate(c, schema, db.s));
    } catch (err) {
      await db.close().catch(() => {});
      throw openError(opts.url, schema, err);
    }
    return new PgStore(db, redactUrl(opts.url), schema);
  }

  /** For tests and benchmarks: one statement in this store's schema (`$S` stands for it). */
  async sql<T extends Record<string, unknown>>(text: string, values: readonly unknown[] = []): Promise<T[]> {
    return (await this.#db.query<T>(text.split('$S').join(this.#db.s), values)).rows;
  }

  /**
   * Runs `write` (any store writes) and marks `key` applied in the same transaction, so a spooled
   * write replayed after a crash between the commit and the spool's own bookkeeping is not
   * applied twice: a key already marked returns its first result (`applied: false`) and runs
   * nothing. Marks live in `spool_applied` (created on first use; pruned with the alerts).
   */
  async applyOnce<T>(key: string, write: () => Promise<T>): Promise<{ applied: boolean; result: T }> {
    await this.#spoolTable();
    const s = this.#db.s;
    return this.#db.transaction(async () => {
      const done = await this.#db.query<{ result: T }>(
        `SELECT result FROM ${s}.spool_applied WHERE key = $1`,
        [key],
      );
      if (done.rows[0]) return { applied: false, result: done.rows[0].result };
      const result = await write();
      await this.#db.query(`INSERT INTO ${s}.spool_applied (key, result, applied_at) VALUES ($1, $2, $3)`, [
        key,
        JSON.stringify(result ?? null),
        Date.now(),
      ]);
      return { applied: true, result };
    });
  }

  #spoolReady = false;

  async #spoolTable(): Promise<void> {
    if (this.#spoolReady) return;
    // Not a numbered migration: only a daemon that spooled ever needs it.
    await this.#db.query(
      `CREATE TABLE IF NOT EXISTS ${this.#db.s}.spool_applied (key text PRIMARY KEY, result jsonb, applied_at bigint NOT NULL)`,
    );
    this.#spoolReady = true;
  }

  // ---- runs ---------------------------------------------------------------------------------

  insertRun(run: NewRun): Promise<RunRecord> {
    return this.#runs.insert(run);
  }

  claimFire(task: string, host: string, fire: number): Promise<void> {
    return this.#runs.claimFire(task, host, fire);
  }

  startRun(id: number, startedAt: number, pid: number): Promise<void> {
    return this.#runs.start(id, startedAt, pid);
  }

  startRunGuarded(
    id: number,
    startedAt: number,
    pid: number,
    guards: readonly StartGuard[],
  ): Promise<boolean> {
    return this.#runs.startGuarded(id, startedAt, pid, guards);
  }

  finishRun(id: number, f: RunFinish): Promise<RunRecord> {
    return this.#runs.finish(id, f);
  }

  setChildProcess(id: number, pgid: number, started: string | null): Promise<void> {
    return this.#runs.setChildProcess(id, pgid, started);
  }

  setNotBefore(id: number, notBefore: number): Promise<void> {
    return this.#runs.setNotBefore(id, notBefore);
  }

  getRun(id: number): Promise<RunRecord | undefined> {
    return this.#runs.get(id);
  }

  listRuns(q: RunQuery): Promise<RunRecord[]> {
    return this.#runs.list(q);
  }

  activeRuns(host: string): Promise<RunRecord[]> {
    return this.#runs.active(host);
  }

  taskStates(host: string): Promise<Map<string, TaskState>> {
    return this.#runs.taskStates(host);
  }

  recentRuns(task: string, limit: number): Promise<RecentRuns> {
    return this.#runs.recent(task, limit);
  }

  lastRunsOfTasks(q: LastRunsQuery): Promise<Map<string, RunBrief[]>> {
    return this.#runs.lastOfTasks(q);
  }

  pruneRuns(o: { readonly before: number; readonly keepRunsPerTask: number }): Promise<number> {
    return this.#runs.prune(o.before, o.keepRunsPerTask);
  }

  // ---- stats --------------------------------------------------------------------------------

  dailyStats(sinceDay: number, task?: string): Promise<DailyStats[]> {
    return this.#stats.dailyStats(sinceDay, task);
  }

  pruneStats(beforeDay: number): Promise<number> {
    return this.#stats.prune(beforeDay);
  }

  runFigures(since: number): Promise<RunFigure[]> {
    return this.#stats.figures(since);
  }

  runTotals(host?: string): Promise<RunTotal[]> {
    return this.#stats.totals(host);
  }

  // ---- samples ------------------------------------------------------------------------------

  recordSamples(task: string, at: number, samples: readonly SampleInput[]): Promise<void> {
    return this.#samples.record(task, at, samples);
  }

  sampleSeries(task: string, key: string, since: number): Promise<SamplePoint[]> {
    return this.#samples.series(task, key, since);
  }

  sampleKeys(task?: string): Promise<SampleKey[]> {
    return this.#samples.keys(task);
  }

  pruneSamples(before: number): Promise<number> {
    return this.#samples.prune(before);
  }

  // ---- alerts -------------------------------------------------------------------------------

  openIncident(key: string): Promise<IncidentRecord | undefined> {
    return this.#alerts.openIncident(key);
  }

  saveIncident(incident: IncidentRecord): Promise<IncidentRecord> {
    return this.#alerts.saveIncident(incident);
  }

  listIncidents(q: { open?: boolean; since?: number; limit: number }): Promise<IncidentRecord[]> {
    return this.#alerts.listIncidents(q);
  }

  insertDelivery(d: Omit<DeliveryRecord, 'id'>): Promise<number> {
    return this.#alerts.insertDelivery(d);
  }

  updateDelivery(
    id: number,
    patch: Pick<DeliveryRecord, 'status' | 'attempts' | 'finishedAt' | 'error'> & { payload?: string | null },
  ): Promise<void> {
    return this.#alerts.updateDelivery(id, patch);
  }

  listDeliveries(q: {
    status?: DeliveryStatus;
    incidentId?: number;
    since?: number;
    limit: number;
  }): Promise<DeliveryRecord[]> {
    return this.#alerts.listDeliveries(q);
  }

  wasDelivered(incidentId: number, channel: string): Promise<boolean> {
    return this.#alerts.wasDelivered(incidentId, channel);
  }

  recordPing(ping: PingRecord): Promise<void> {
    return this.#alerts.recordPing(ping);
  }

  lastPings(): Promise<Map<string, PingRecord>> {
    return this.#alerts.lastPings();
  }

  async pruneAlerts(before: number): Promise<number> {
    const n = await this.#alerts.prune(before);
    // Marks of replayed writes matter only until the spool that sent them heard back (seconds).
    const s = this.#db.s;
    const marks = await this.#db.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [
      `${s}.spool_applied`,
    ]);
    if (marks.rows[0]?.t)
      await this.#db.query(`DELETE FROM ${s}.spool_applied WHERE applied_at < $1`, [before]);
    return n;
  }

  // ---- meta ---------------------------------------------------------------------------------

  getMeta(key: string): Promise<string | undefined> {
    return this.#meta.get(key);
  }

  setMeta(key: string, value: string): Promise<void> {
    return this.#meta.set(key, value);
  }

  // ---- pauses -------------------------------------------------------------------------------

  pauseTask(
    task: string,
    pause: { readonly by: string; readonly reason: string | null; readonly at: number },
  ): Promise<{ readonly paused: boolean; readonly record: PauseRecord }> {
    return this.#pauses.pause(task, pause);
  }

  resumeTask(task: string): Promise<PauseRecord | undefined> {
    return this.#pauses.resume(task);
  }

  listPauses(): Promise<PauseRecord[]> {
    return this.#pauses.list();
  }

  // ---- a copy's target (store/copy-roles.ts) ------------------------------------------------

  copyMark(source: string): Promise<CopyMark | undefined> {
    return this.#import.copyMark(source);
  }

  importRuns(
    source: string,
    runs: readonly RunRecord[],
    mark: CopyMark,
    beforeCommit?: () => void,
  ): Promise<number> {
    return this.#import.importRuns(source, runs, mark, beforeCommit);
  }

  statsSnapshot(source: string): Promise<StatsSnapshot | undefined> {
    return this.#import.statsSnapshot(source);
  }

  mergeStats(source: string, delta: readonly DailyStats[], snapshot: StatsSnapshot): Promise<number> {
    return this.#import.mergeStats(source, delta, snapshot);
  }

  totalsSnapshot(source: string): Promise<readonly RunTotal[] | undefined> {
    return this.#import.totalsSnapshot(source);
  }

  mergeTotals(source: string, delta: readonly RunTotal[], snapshot: readonly RunTotal[]): Promise<number> {
    return this.#import.mergeTotals(source, delta, snapshot);
  }

  mergeTaskStates(states: readonly HostTaskState[]): Promise<number> {
    return this.#import.mergeTaskStates(states);
  }

  importSamples(key: SampleKey, points: readonly SamplePoint[]): Promise<number> {
    return this.#import.importSamples(key, points);
  }

  importIncident(incident: IncidentRecord, deliveries: readonly DeliveryRecord[]): Promise<boolean> {
    return this.#import.importIncident(incident, deliveries);
  }

  importPings(pings: readonly PingRecord[]): Promise<number> {
    return this.#import.importPings(pings);
  }

  // ---- access -------------------------------------------------------------------------------

  async insertToken(token: NewToken): Promise<TokenRecord> {
    return this.#access.insert(token);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return this.#access.list();
  }

  async tokenByHash(hash: string): Promise<TokenRecord | undefined> {
    return this.#access.byHash(hash);
  }

  async touchToken(name: string, at: number): Promise<void> {
    return this.#access.touch(name, at);
  }

  async revokeToken(name: string, at: number): Promise<TokenRecord | undefined> {
    return this.#access.revoke(name, at);
  }

  async appendAudit(entry: Omit<AuditRecord, 'id'>): Promise<AuditRecord> {
    return this.#access.append(entry);
  }

  async listAudit(q: { readonly since?: number; readonly limit: number }): Promise<AuditRecord[]> {
    return this.#access.listAudit(q);
  }

  // ---- fleet --------------------------------------------------------------------------------

  registerHost(
    reg: HostRegistration,
  ): Promise<{ readonly ok: true } | { readonly ok: false; readonly holder: HostRecord }> {
    return this.#fleet.register(reg);
  }

  heartbeat(
    name: string,
    instance: string,
    now: number,
  ): Promise<{ readonly registered: boolean; readonly lost: readonly ClaimRecord[] }> {
    return this.#fleet.heartbeat(name, instance, now);
  }

  unregisterHost(name: string, instance: string, now: number): Promise<void> {
    return this.#fleet.unregister(name, instance, now);
  }

  listHosts(): Promise<HostRecord[]> {
    return this.#fleet.hosts();
  }

  claimSlot(c: {
    readonly task: string;
    readonly slot: number;
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
  }): Promise<ClaimRecord | undefined> {
    return this.#fleet.claim(c);
  }

  claimSlots(c: {
    readonly slots: readonly SlotKey[];
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
  }): Promise<SlotKey[]> {
    return this.#fleet.claimMany(c);
  }

  attachRun(task: string, slot: number, instance: string, runId: number): Promise<void> {
    return this.#fleet.attach(task, slot, instance, runId);
  }

  releaseSlot(
    task: string,
    slot: number,
    instance: string,
    outcome: { readonly state: 'done' | 'skipped'; readonly reason?: string | null },
  ): Promise<void> {
    return this.#fleet.release(task, slot, instance, outcome);
  }

  expiredClaims(now: number): Promise<ClaimRecord[]> {
    return this.#fleet.expired(now);
  }

  async scanClaims(
    now: number,
    asked: readonly SlotKey[],
  ): Promise<{ readonly expired: ClaimRecord[]; readonly unclaimed: SlotKey[] }> {
    return this.#fleet.scan(now, asked);
  }

  takeOver(t: {
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
    return this.#fleet.takeOver(t);
  }

  storeTime(): Promise<number> {
    return this.#fleet.now();
  }

  adoptClaims(host: string, instance: string, now: number, leaseMs: number): Promise<ClaimRecord[]> {
    return this.#fleet.adopt(host, instance, now, leaseMs);
  }

  getClaim(task: string, slot: number): Promise<ClaimRecord | undefined> {
    return this.#fleet.get(task, slot);
  }

  pruneClaims(before: number): Promise<number> {
    return this.#fleet.prune(before);
  }

  // ---- the store as a whole -----------------------------------------------------------------

  prune(opts: PruneOptions): Promise<PruneResult> {
    return pruneStore(this, opts);
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}
