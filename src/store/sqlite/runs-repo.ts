/**
 * Runs and per-task state in SQLite. A run's insert and the fire it claims, and a run's finish
 * and the task state and daily statistics it updates, are each one IMMEDIATE transaction.
 */
import {
  FAILURE_STATUSES,
  RUN_STATUSES,
  SUCCESS_STATUSES,
  type NewRun,
  type LastRunsQuery,
  type RecentRuns,
  type RunBrief,
  type RunFinish,
  type RunQuery,
  isExecution,
  type RunRecord,
  type RunStatus,
  type RunTrigger,
  type TaskState,
} from '../types.js';
import { lazyStatements } from './lazy-statements.js';
import { toRunRecord, toTaskState, type RunRow } from './run-row.js';
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js';
import type { StatsRepo } from './stats-repo.js';
import { jsonWithoutNul, textWithoutNul } from '../text-without-nul.js';

/** The columns of a RunBrief: no output tail or result to read and parse. */
const BRIEF = 'runs.id, runs.task, runs.status, runs.duration_ms';

interface BriefRow {
  id: number;
  task: string;
  status: string;
  duration_ms: number | null;
}

const toBrief = (r: BriefRow): RunBrief => ({
  id: r.id,
  task: r.task,
  status: r.status as RunStatus,
  durationMs: r.duration_ms,
});

/** Rows deleted per statement: each write transaction stays short, a running daemon never stalls. */
const PRUNE_BATCH = 5000;

export class RunsRepo {
  readonly #db: SqliteDatabase;
  readonly #stats: StatsRepo;
  readonly #s;
  readonly #lists = new Map<string, SqliteStatement>();

  constructor(db: SqliteDatabase, stats: StatsRepo) {
    this.#db = db;
    this.#stats = stats;
    this.#s = lazyStatements(db, {
      insert: `INSERT INTO runs (task, host, trigger, scheduled_for, not_before, queued_at, started_at, status, attempt, reason, dry_run, pid)
        VALUES (@task, @host, @trigger, @scheduledFor, @notBefore, @queuedAt, @startedAt, @status, @attempt, @reason, @dryRun, @pid) RETURNING *`,
      claim: `INSERT INTO task_state (task, host, last_fire) VALUES (?, ?, ?)
        ON CONFLICT (task, host) DO UPDATE SET last_fire = max(coalesce(last_fire, 0), excluded.last_fire)`,
      start: `UPDATE runs SET status = 'running', started_at = ?, pid = ? WHERE id = ?`,
      started: `INSERT INTO task_state (task, host, last_started_at) VALUES (?, ?, ?)
        ON CONFLICT (task, host) DO UPDATE SET last_started_at = excluded.last_started_at`,
      finish: `UPDATE runs SET status = @status, finished_at = @finishedAt, started_at = coalesce(@startedAt, started_at),
        exit_code = @exitCode, duration_ms = @durationMs, output_tail = @outputTail, result_json = @result, reason = coalesce(@reason, reason)
        WHERE id = @id RETURNING *`,
      notBefore: `UPDATE runs SET not_before = ? WHERE id = ?`,
      child: `UPDATE runs SET child_pgid = ?, child_started = ? WHERE id = ?`,
      state: `INSERT INTO task_state (task, host, last_finished_at, last_status, last_run_id, last_success_at, last_failure_at, consecutive_failures)
        VALUES (@task, @host, @finishedAt, @status, @id, @successAt, @failureAt, @failures)
        ON CONFLICT (task, host) DO UPDATE SET
          last_finished_at = excluded.last_finished_at, last_status = excluded.last_status, last_run_id = excluded.last_run_id,
          last_success_at = coalesce(excluded.last_success_at, last_success_at),
          last_failure_at = coalesce(excluded.last_failure_at, last_failure_at),
          consecutive_failures = CASE WHEN @failed THEN consecutive_failures + 1 ELSE 0 END`,
      get: `SELECT * FROM runs WHERE id = ?`,
      active: `SELECT * FROM runs WHERE host = ? AND status IN ('queued', 'running') ORDER BY id`,
      states: `SELECT * FROM task_state WHERE host = ?`,
      recent: `SELECT status, duration_ms FROM runs WHERE task = ? AND dry_run = 0 AND trigger NOT IN ('rollback', 'restore')
        AND status IN ('success', 'warning', 'failed', 'timeout', 'interrupted') ORDER BY id DESC LIMIT ?`,
      lastOfTasks: `SELECT ${BRIEF} FROM json_each(?) AS t
        JOIN runs ON runs.id IN (SELECT id FROM runs WHERE task = t.value ORDER BY id DESC LIMIT ?)
        ORDER BY runs.id DESC`,
      lastOfTasksOnHost: `SELECT ${BRIEF} FROM json_each(?) AS t
        JOIN runs ON runs.id IN (SELECT id FROM runs WHERE task = t.value AND host = ? ORDER BY id DESC LIMIT ?)
        ORDER BY runs.id DESC`,
      pruneByAge: `DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE finished_at < ? AND status NOT IN ('queued', 'running') LIMIT ${PRUNE_BATCH})`,
      overCount: `SELECT task, count(*) AS n FROM runs WHERE status NOT IN ('queued', 'running') GROUP BY task HAVING n > ?`,
      countEdge: `SELECT id FROM runs WHERE task = ? AND status NOT IN ('queued', 'running') ORDER BY id DESC LIMIT 1 OFFSET ?`,
      pruneByCount: `DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE task = ? AND id <= ? AND status NOT IN ('queued', 'running') LIMIT ${PRUNE_BATCH})`,
    });
  }

  insert(run: NewRun): RunRecord {
    const row = this.#db.transaction(() => {
      const inserted = this.#s.insert.get({
        task: run.task,
        host: run.host,
        trigger: run.trigger,
        scheduledFor: run.scheduledFor,
        notBefore: run.notBefore,
        queuedAt: run.queuedAt,
        startedAt: run.startedAt ?? null,
        status: run.status,
        attempt: run.attempt,
        reason: textWithoutNul(run.reason ?? null),
        dryRun: run.dryRun ? 1 : 0,
        pid: run.pid,
      }) as RunRow;
      if (run.claimFire && run.scheduledFor !== null) this.#s.claim.run(run.task, run.host, run.scheduledFor);
      if (run.status === 'running' && !run.dryRun && isExecution(run.trigger))
        this.#s.started.run(run.task, run.host, run.startedAt ?? run.queuedAt);
      return inserted;
    }, 'immediate');
    return toRunRecord(row);
  }

  claimFire(task: string, host: string, fire: number): void {
    this.#s.claim.run(task, host, fire);
  }

  start(id: number, startedAt: number, pid: number): void {
    this.#db.transaction(() => {
      this.#s.start.run(startedAt, pid, id);
      const row = this.#s.get.get(id) as RunRow | undefined;
      if (row && row.dry_run === 0) this.#s.started.run(row.task, row.host, startedAt);
    }, 'immediate');
  }

  finish(id: number, f: RunFinish): RunRecord {
    const row = this.#db.transaction(() => {
      const done = this.#s.finish.get({
        id,
        status: f.status,
        finishedAt: f.finishedAt,
        startedAt: f.startedAt ?? null,
        exitCode: f.exitCode ?? null,
        durationMs: f.durationMs ?? null,
        outputTail: textWithoutNul(f.outputTail ?? null),
        result: f.result == null ? null : jsonWithoutNul(f.result),
        reason: textWithoutNul(f.reason ?? null),
      }) as RunRow | undefined;
      if (!done) throw new Error(`run ${id} does not exist`);
      const succeeded = SUCCESS_STATUSES.includes(f.status);
      const failed = FAILURE_STATUSES.includes(f.status);
      if (done.dry_run === 0 && isExecution(done.trigger as RunTrigger))
        this.#stats.addTotal({
          task: done.task,
          host: done.host,
          status: f.status,
          durationMs: f.durationMs,
          missed: f.missed === true,
        });
      if (done.dry_run === 0 && isExecution(done.trigger as RunTrigger) && (succeeded || failed)) {
        this.#s.state.run({
          task: done.task,
          host: done.host,
          finishedAt: f.finishedAt,
          status: f.status,
          id,
          successAt: succeeded ? f.finishedAt : null,
          failureAt: failed ? f.finishedAt : null,
          failures: failed ? 1 : 0,
          failed: failed ? 1 : 0,
        });
        this.#stats.add({
          task: done.task,
          finishedAt: f.finishedAt,
          durationMs: f.durationMs,
          succeeded,
          failed,
        });
      }
      return done;
    }, 'immediate');
    return toRunRecord(row);
  }

  setChildProcess(id: number, pgid: number, started: string | null): void {
    this.#s.child.run(pgid, started, id);
  }

  setNotBefore(id: number, notBefore: number): void {
    this.#s.notBefore.run(notBefore, id);
  }

  get(id: number): RunRecord | undefined {
    const row = this.#s.get.get(id) as RunRow | undefined;
    return row && toRunRecord(row);
  }

  list(q: RunQuery): RunRecord[] {
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
    // A few shapes of query, asked again and again (GET /metrics asks one per backup and health
    // task at every scrape): each prepared once.
    let statement = this.#lists.get(sql);
    if (!statement) this.#lists.set(sql, (statement = this.#db.prepare(sql)));
    return (statement.all(...params, q.limit) as RunRow[]).map(toRunRecord);
  }

  /**
   * The last runs of each task: one statement, the task ids as a JSON array, and for each a
   * correlated `IN (… ORDER BY id DESC LIMIT n)` that walks the (task, id) index backwards from
   * its end. (A `ROW_NUMBER() OVER (PARTITION BY task …)` would number every run of every task:
   * a scan of the whole table for 30 rows each.)
   */
  lastOfTasks(q: LastRunsQuery): Map<string, RunBrief[]> {
    const out = new Map<string, RunBrief[]>(q.tasks.map((t) => [t, []]));
    if (q.tasks.length === 0 || q.limit <= 0) return out;
    const statement = q.host === undefined ? this.#s.lastOfTasks : this.#s.lastOfTasksOnHost;
    const params =
      q.host === undefined ? [JSON.stringify(q.tasks), q.limit] : [JSON.stringify(q.tasks), q.host, q.limit];
    for (const r of statement.all(...params) as BriefRow[]) out.get(r.task)?.push(toBrief(r));
    return out;
  }

  active(host: string): RunRecord[] {
    return (this.#s.active.all(host) as RunRow[]).map(toRunRecord);
  }

  taskStates(host: string): Map<string, TaskState> {
    const rows = this.#s.states.all(host) as Record<string, unknown>[];
    return new Map(rows.map((r) => [r.task as string, toTaskState(r)]));
  }

  recent(task: string, limit: number): RecentRuns {
    const rows = this.#s.recent.all(task, limit) as { status: RunStatus; duration_ms: number | null }[];
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

  prune(before: number, keepRunsPerTask: number): number {
    let deleted = 0;
    const drain = (batch: () => number) => {
      for (;;) {
        const n = batch();
        deleted += n;
        if (n < PRUNE_BATCH) return;
      }
    };
    drain(() => this.#s.pruneByAge.run(before).changes);
    const tasks = this.#s.overCount.all(keepRunsPerTask) as { task: string }[];
    for (const { task } of tasks) {
      const edge = this.#s.countEdge.get(task, keepRunsPerTask) as { id: number } | undefined;
      if (edge) drain(() => this.#s.pruneByCount.run(task, edge.id).changes);
    }
    return deleted;
  }
}
