/**
 * The default store: one SQLite file (WAL) under the state dir. better-sqlite3 is synchronous;
 * the methods are async only to share the Store interface with networked stores.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ActionResult } from '../../actions/types.js';
import { bucketOf } from '../duration-histogram.js';
import {
  FAILURE_STATUSES,
  RUN_STATUSES,
  SUCCESS_STATUSES,
  type DailyStats,
  type DeliveryRecord,
  type DeliveryStatus,
  type IncidentRecord,
  type NewRun,
  type PingRecord,
  type PruneResult,
  type RecentRuns,
  type RunFinish,
  type RunQuery,
  type RunRecord,
  type RunStatus,
  type SampleInput,
  type SampleKey,
  type SamplePoint,
  type Store,
  type TaskState,
} from '../types.js';
import { AlertsRepo } from './alerts-repo.js';
import { MIGRATIONS } from './migrations.js';
import { SamplesRepo } from './samples-repo.js';

const DAY_MS = 86_400_000;

interface RunRow {
  id: number;
  task: string;
  host: string;
  trigger: string;
  scheduled_for: number | null;
  not_before: number | null;
  queued_at: number;
  started_at: number | null;
  finished_at: number | null;
  status: string;
  attempt: number;
  exit_code: number | null;
  duration_ms: number | null;
  output_tail: string | null;
  result_json: string | null;
  reason: string | null;
  dry_run: number;
  pid: number | null;
  child_pgid: number | null;
  child_started: string | null;
}

function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    task: r.task,
    host: r.host,
    trigger: r.trigger as RunRecord['trigger'],
    scheduledFor: r.scheduled_for,
    notBefore: r.not_before,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status as RunStatus,
    attempt: r.attempt,
    exitCode: r.exit_code,
    durationMs: r.duration_ms,
    outputTail: r.output_tail,
    result: r.result_json === null ? null : (JSON.parse(r.result_json) as ActionResult),
    reason: r.reason,
    dryRun: r.dry_run === 1,
    pid: r.pid,
    childPgid: r.child_pgid,
    childStarted: r.child_started,
  };
}

export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

export interface SqliteStoreOptions {
  readonly readonly?: boolean;
  /**
   * Checkpoint the WAL only in housekeep() (the engine calls it when idle) instead of inside
   * whichever commit crosses 1,000 pages: a checkpoint fsyncs, and must not delay a run's start.
   */
  readonly deferCheckpoints?: boolean;
}

/** With deferred checkpoints, still checkpoint after this many writes so the WAL stays bounded. */
const MAX_WRITES_BEFORE_CHECKPOINT = 20_000;

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  readonly #stmts: ReturnType<SqliteStore['prepare']>;
  #deferCheckpoints = false;
  #writes = 0;
  #samplesRepo: SamplesRepo | undefined;
  #alertsRepo: AlertsRepo | undefined;

  constructor(
    readonly path: string,
    opts: SqliteStoreOptions = {},
  ) {
    if (!opts.readonly) {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why =
          code === 'EEXIST' || code === 'ENOTDIR'
            ? 'it (or a parent) exists and is not a directory'
            : code === 'EACCES' || code === 'EPERM'
              ? 'permission denied'
              : (code ?? (err as Error).message);
        throw new StoreOpenError(`cannot create the state directory ${dirname(path)}: ${why}`);
      }
    }
    try {
      this.#db = new Database(path, {
        readonly: opts.readonly ?? false,
        fileMustExist: opts.readonly ?? false,
      });
      this.#db.pragma('busy_timeout = 5000');
      if (!opts.readonly) {
        this.#db.pragma('journal_mode = WAL');
        // NORMAL in WAL mode: a power loss may drop the last transactions but never corrupts.
        this.#db.pragma('synchronous = NORMAL');
        this.#db.pragma('journal_size_limit = 67108864');
        if (opts.deferCheckpoints) this.#db.pragma('wal_autocheckpoint = 0');
        this.#deferCheckpoints = opts.deferCheckpoints ?? false;
        this.migrate();
      }
    } catch (err) {
      throw new StoreOpenError(
        `cannot open the history database ${path}: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    this.#stmts = this.prepare();
  }

  // Prepared on first use: a read-only store opened on a database of an older schema still
  // serves the run history.
  get #samples(): SamplesRepo {
    return (this.#samplesRepo ??= new SamplesRepo(this.#db));
  }

  get #alerts(): AlertsRepo {
    return (this.#alertsRepo ??= new AlertsRepo(this.#db));
  }

  private migrate(): void {
    const current = () => this.#db.pragma('user_version', { simple: true }) as number;
    if (current() > MIGRATIONS.length) {
      throw new Error(
        `it was written by a newer caretaker (schema ${current()}, this one knows ${MIGRATIONS.length})`,
      );
    }
    for (let v = current(); v < MIGRATIONS.length; v++) {
      // IMMEDIATE takes the write lock first, so two processes opening a new database at once
      // apply each migration exactly once: the second sees the new version and skips it.
      this.#db
        .transaction(() => {
          if (current() !== v) return;
          this.#db.exec(MIGRATIONS[v]!);
          this.#db.pragma(`user_version = ${v + 1}`);
        })
        .immediate();
    }
  }

  private prepare() {
    const db = this.#db;
    return {
      insert:
        db.prepare(`INSERT INTO runs (task, host, trigger, scheduled_for, not_before, queued_at, started_at, status, attempt, reason, dry_run, pid)
        VALUES (@task, @host, @trigger, @scheduledFor, @notBefore, @queuedAt, @startedAt, @status, @attempt, @reason, @dryRun, @pid) RETURNING *`),
      claim: db.prepare(`INSERT INTO task_state (task, host, last_fire) VALUES (?, ?, ?)
        ON CONFLICT (task, host) DO UPDATE SET last_fire = max(coalesce(last_fire, 0), excluded.last_fire)`),
      start: db.prepare(`UPDATE runs SET status = 'running', started_at = ?, pid = ? WHERE id = ?`),
      started: db.prepare(`INSERT INTO task_state (task, host, last_started_at) VALUES (?, ?, ?)
        ON CONFLICT (task, host) DO UPDATE SET last_started_at = excluded.last_started_at`),
      finish:
        db.prepare(`UPDATE runs SET status = @status, finished_at = @finishedAt, started_at = coalesce(@startedAt, started_at),
        exit_code = @exitCode, duration_ms = @durationMs, output_tail = @outputTail, result_json = @result, reason = coalesce(@reason, reason)
        WHERE id = @id RETURNING *`),
      notBefore: db.prepare(`UPDATE runs SET not_before = ? WHERE id = ?`),
      child: db.prepare(`UPDATE runs SET child_pgid = ?, child_started = ? WHERE id = ?`),
      state:
        db.prepare(`INSERT INTO task_state (task, host, last_finished_at, last_status, last_run_id, last_success_at, last_failure_at, consecutive_failures)
        VALUES (@task, @host, @finishedAt, @status, @id, @successAt, @failureAt, @failures)
        ON CONFLICT (task, host) DO UPDATE SET
          last_finished_at = excluded.last_finished_at, last_status = excluded.last_status, last_run_id = excluded.last_run_id,
          last_success_at = coalesce(excluded.last_success_at, last_success_at),
          last_failure_at = coalesce(excluded.last_failure_at, last_failure_at),
          consecutive_failures = CASE WHEN @failed THEN consecutive_failures + 1 ELSE 0 END`),
      statsGet: db.prepare(`SELECT histogram FROM run_stats_daily WHERE day = ? AND task = ?`),
      statsUpsert:
        db.prepare(`INSERT INTO run_stats_daily (task, day, runs, successes, failures, total_ms, max_ms, histogram)
        VALUES (@task, @day, 1, @success, @failure, @ms, @ms, @histogram)
        ON CONFLICT (day, task) DO UPDATE SET runs = runs + 1, successes = successes + @success, failures = failures + @failure,
          total_ms = total_ms + @ms, max_ms = max(max_ms, @ms), histogram = @histogram`),
      get: db.prepare(`SELECT * FROM runs WHERE id = ?`),
      active: db.prepare(`SELECT * FROM runs WHERE host = ? AND status IN ('queued', 'running') ORDER BY id`),
      states: db.prepare(`SELECT * FROM task_state WHERE host = ?`),
      recent:
        db.prepare(`SELECT status, duration_ms FROM runs WHERE task = ? AND dry_run = 0 AND trigger != 'rollback'
        AND status IN ('success', 'warning', 'failed', 'timeout', 'interrupted') ORDER BY id DESC LIMIT ?`),
      getMeta: db.prepare(`SELECT value FROM meta WHERE key = ?`),
      setMeta: db.prepare(
        `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
    };
  }

  async insertRun(run: NewRun): Promise<RunRecord> {
    const tx = this.#db.transaction(() => {
      const row = this.#stmts.insert.get({
        task: run.task,
        host: run.host,
        trigger: run.trigger,
        scheduledFor: run.scheduledFor,
        notBefore: run.notBefore,
        queuedAt: run.queuedAt,
        startedAt: run.startedAt ?? null,
        status: run.status,
        attempt: run.attempt,
        reason: run.reason ?? null,
        dryRun: run.dryRun ? 1 : 0,
        pid: run.pid,
      }) as RunRow;
      if (run.claimFire && run.scheduledFor !== null)
        this.#stmts.claim.run(run.task, run.host, run.scheduledFor);
      if (run.status === 'running' && !run.dryRun && run.trigger !== 'rollback')
        this.#stmts.started.run(run.task, run.host, run.startedAt ?? run.queuedAt);
      return row;
    });
    this.#wrote();
    return toRecord(tx.immediate());
  }

  async claimFire(task: string, host: string, fire: number): Promise<void> {
    this.#stmts.claim.run(task, host, fire);
  }

  async startRun(id: number, startedAt: number, pid: number): Promise<void> {
    this.#db
      .transaction(() => {
        this.#stmts.start.run(startedAt, pid, id);
        const row = this.#stmts.get.get(id) as RunRow | undefined;
        if (row && row.dry_run === 0) this.#stmts.started.run(row.task, row.host, startedAt);
      })
      .immediate();
  }

  async finishRun(id: number, f: RunFinish): Promise<RunRecord> {
    this.#wrote();
    const tx = this.#db.transaction(() => {
      const row = this.#stmts.finish.get({
        id,
        status: f.status,
        finishedAt: f.finishedAt,
        startedAt: f.startedAt ?? null,
        exitCode: f.exitCode ?? null,
        durationMs: f.durationMs ?? null,
        outputTail: f.outputTail ?? null,
        result: f.result == null ? null : JSON.stringify(f.result),
        reason: f.reason ?? null,
      }) as RunRow | undefined;
      if (!row) throw new Error(`run ${id} does not exist`);
      const succeeded = SUCCESS_STATUSES.includes(f.status);
      const failed = FAILURE_STATUSES.includes(f.status);
      if (row.dry_run === 0 && row.trigger !== 'rollback' && (succeeded || failed)) {
        this.#stmts.state.run({
          task: row.task,
          host: row.host,
          finishedAt: f.finishedAt,
          status: f.status,
          id,
          successAt: succeeded ? f.finishedAt : null,
          failureAt: failed ? f.finishedAt : null,
          failures: failed ? 1 : 0,
          failed: failed ? 1 : 0,
        });
        const day = Math.floor(f.finishedAt / DAY_MS);
        const ms = Math.max(0, Math.round(f.durationMs ?? 0));
        const existing = this.#stmts.statsGet.get(day, row.task) as { histogram: string } | undefined;
        const hist = existing ? (JSON.parse(existing.histogram) as Record<string, number>) : {};
        const b = bucketOf(ms);
        hist[b] = (hist[b] ?? 0) + 1;
        this.#stmts.statsUpsert.run({
          task: row.task,
          day,
          success: succeeded ? 1 : 0,
          failure: failed ? 1 : 0,
          ms,
          histogram: JSON.stringify(hist),
        });
      }
      return row;
    });
    return toRecord(tx.immediate());
  }

  async setChildProcess(id: number, pgid: number, started: string | null): Promise<void> {
    this.#stmts.child.run(pgid, started, id);
  }

  async setNotBefore(id: number, notBefore: number): Promise<void> {
    this.#stmts.notBefore.run(notBefore, id);
  }

  async getRun(id: number): Promise<RunRecord | undefined> {
    const row = this.#stmts.get.get(id) as RunRow | undefined;
    return row && toRecord(row);
  }

  async listRuns(q: RunQuery): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.task !== undefined) {
      where.push('task = ?');
      params.push(q.task);
    }
    if (q.host !== undefined) {
      where.push('host = ?');
      params.push(q.host);
    }
    if (q.beforeId !== undefined) {
      where.push('id < ?');
      params.push(q.beforeId);
    }
    if (q.statuses && q.statuses.length > 0) {
      // Inlined (after checking each against the enum) so SQLite can use the partial index of
      // failures: with bound parameters it cannot prove the index applies.
      for (const st of q.statuses)
        if (!RUN_STATUSES.includes(st)) throw new Error(`unknown run status ${st}`);
      where.push(`status IN (${q.statuses.map((st) => `'${st}'`).join(', ')})`);
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...params, q.limit) as RunRow[]).map(toRecord);
  }

  async activeRuns(host: string): Promise<RunRecord[]> {
    return (this.#stmts.active.all(host) as RunRow[]).map(toRecord);
  }

  async taskStates(host: string): Promise<Map<string, TaskState>> {
    const rows = this.#stmts.states.all(host) as Record<string, number | string | null>[];
    return new Map(
      rows.map((r) => [
        r.task as string,
        {
          task: r.task as string,
          lastFire: r.last_fire as number | null,
          lastStartedAt: r.last_started_at as number | null,
          lastFinishedAt: r.last_finished_at as number | null,
          lastStatus: r.last_status as RunStatus | null,
          lastRunId: r.last_run_id as number | null,
          lastSuccessAt: r.last_success_at as number | null,
          lastFailureAt: r.last_failure_at as number | null,
          consecutiveFailures: r.consecutive_failures as number,
        },
      ]),
    );
  }

  async recentRuns(task: string, limit: number): Promise<RecentRuns> {
    const rows = this.#stmts.recent.all(task, limit) as { status: RunStatus; duration_ms: number | null }[];
    const durations = rows
      .map((r) => r.duration_ms)
      .filter((d): d is number => d !== null)
      .sort((a, b) => a - b);
    return {
      runs: rows.length,
      successes: rows.filter((r) => SUCCESS_STATUSES.includes(r.status)).length,
      medianDurationMs: durations.length === 0 ? null : durations[Math.floor((durations.length - 1) / 2)]!,
    };
  }

  async dailyStats(sinceDay: number, task?: string): Promise<DailyStats[]> {
    const rows = (
      task === undefined
        ? this.#db.prepare(`SELECT * FROM run_stats_daily WHERE day >= ? ORDER BY day`).all(sinceDay)
        : this.#db
            .prepare(`SELECT * FROM run_stats_daily WHERE day >= ? AND task = ? ORDER BY day`)
            .all(sinceDay, task)
    ) as Record<string, number | string>[];
    return rows.map((r) => ({
      task: r.task as string,
      day: r.day as number,
      runs: r.runs as number,
      successes: r.successes as number,
      failures: r.failures as number,
      totalMs: r.total_ms as number,
      maxMs: r.max_ms as number,
      histogram: JSON.parse(r.histogram as string) as Record<string, number>,
    }));
  }

  async prune(opts: { now: number; keepDays: number; keepRunsPerTask: number }): Promise<PruneResult> {
    const cutoff = opts.now - opts.keepDays * DAY_MS;
    let runsDeleted = 0;
    // Small batches keep each write transaction short, so a running daemon is never stalled.
    const byAge = this.#db.prepare(
      `DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE finished_at < ? AND status NOT IN ('queued', 'running') LIMIT 5000)`,
    );
    for (;;) {
      const n = byAge.run(cutoff).changes;
      runsDeleted += n;
      if (n < 5000) break;
    }
    const tasks = this.#db
      .prepare(
        `SELECT task, count(*) AS n FROM runs WHERE status NOT IN ('queued', 'running') GROUP BY task HAVING n > ?`,
      )
      .all(opts.keepRunsPerTask) as {
      task: string;
    }[];
    const boundary = this.#db.prepare(
      `SELECT id FROM runs WHERE task = ? AND status NOT IN ('queued', 'running') ORDER BY id DESC LIMIT 1 OFFSET ?`,
    );
    const byCount = this.#db.prepare(
      `DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE task = ? AND id <= ? AND status NOT IN ('queued', 'running') LIMIT 5000)`,
    );
    for (const { task } of tasks) {
      const edge = boundary.get(task, opts.keepRunsPerTask) as { id: number } | undefined;
      if (!edge) continue;
      for (;;) {
        const n = byCount.run(task, edge.id).changes;
        runsDeleted += n;
        if (n < 5000) break;
      }
    }
    const statsDeleted = this.#db
      .prepare(`DELETE FROM run_stats_daily WHERE day < ?`)
      .run(Math.floor(cutoff / DAY_MS)).changes;
    const samplesDeleted = this.#samples.prune(cutoff) + this.#alerts.prune(cutoff);
    return { runsDeleted, statsDeleted, samplesDeleted };
  }

  // ---- samples, incidents, deliveries, pings (see samples-repo.ts and alerts-repo.ts) ----------

  async recordSamples(task: string, at: number, samples: readonly SampleInput[]): Promise<void> {
    this.#samples.record(task, at, samples);
  }

  async sampleSeries(task: string, key: string, since: number): Promise<SamplePoint[]> {
    return this.#samples.series(task, key, since);
  }

  async sampleKeys(task?: string): Promise<SampleKey[]> {
    return this.#samples.keys(task);
  }

  async openIncident(key: string): Promise<IncidentRecord | undefined> {
    return this.#alerts.openIncident(key);
  }

  async saveIncident(incident: IncidentRecord): Promise<IncidentRecord> {
    return this.#alerts.saveIncident(incident);
  }

  async listIncidents(q: { open?: boolean; since?: number; limit: number }): Promise<IncidentRecord[]> {
    return this.#alerts.listIncidents(q);
  }

  async insertDelivery(d: Omit<DeliveryRecord, 'id'>): Promise<number> {
    return this.#alerts.insertDelivery(d);
  }

  async updateDelivery(
    id: number,
    patch: Pick<DeliveryRecord, 'status' | 'attempts' | 'finishedAt' | 'error'> & { payload?: string | null },
  ): Promise<void> {
    this.#alerts.updateDelivery(id, patch);
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
    this.#alerts.recordPing(ping);
  }

  async lastPings(): Promise<Map<string, PingRecord>> {
    return this.#alerts.lastPings();
  }

  #wrote(): void {
    if (this.#deferCheckpoints && ++this.#writes >= MAX_WRITES_BEFORE_CHECKPOINT) void this.housekeep();
  }

  async housekeep(): Promise<void> {
    if (!this.#deferCheckpoints || this.#writes === 0 || !this.#db.open) return;
    this.#writes = 0;
    this.#db.pragma('wal_checkpoint(PASSIVE)');
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (this.#stmts.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.#stmts.setMeta.run(key, value);
  }

  async close(): Promise<void> {
    await this.housekeep();
    if (this.#db.open) this.#db.close();
  }

  /** For benchmarks and tests that need to fill a database fast. */
  get database(): Database.Database {
    return this.#db;
  }
}
