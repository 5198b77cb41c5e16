/**
 * Runs and per-task state in PostgreSQL. A run's insert and the fire it claims, a start and the
 * task state it touches, and a finish with the task state and daily statistics it updates, are
 * each one statement (data-modifying CTEs: atomic, one round trip), prepared once per connection.
 */
import { bucketOf, totalBucketOf } from '../duration-histogram.js';
import {
  FAILURE_STATUSES,
  RUN_STATUSES,
  SUCCESS_STATUSES,
  type StartGuard,
  type NewRun,
  type LastRunsQuery,
  type RecentRuns,
  type RunBrief,
  type RunFinish,
  type RunQuery,
  type RunRecord,
  type RunStatus,
  type TaskState,
} from '../types.js';
import type { PgDatabase } from './pg-database.js';
import { pgJson, pgText } from './pg-text.js';

const PRUNE_BATCH = 5000;
const DAY_MS = 86_400_000;
/** Triggers that are records, not executions (types.ts RECORD_ONLY_TRIGGERS). */
const EXECUTION = `trigger NOT IN ('rollback', 'restore')`;

interface BriefRow {
  id: number;
  task: string;
  status: string;
  duration_ms: number | null;
}

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
  result: unknown;
  reason: string | null;
  dry_run: boolean;
  pid: number | null;
  child_pgid: number | null;
  child_started: string | null;
}

const toRunRecord = (r: RunRow): RunRecord => ({
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
  result: (r.result ?? null) as RunRecord['result'],
  reason: r.reason,
  dryRun: r.dry_run,
  pid: r.pid,
  childPgid: r.child_pgid,
  childStarted: r.child_started,
});

const toTaskState = (r: Record<string, unknown>): TaskState => ({
  task: r.task as string,
  lastFire: r.last_fire as number | null,
  lastStartedAt: r.last_started_at as number | null,
  lastFinishedAt: r.last_finished_at as number | null,
  lastStatus: r.last_status as RunStatus | null,
  lastRunId: r.last_run_id as number | null,
  lastSuccessAt: r.last_success_at as number | null,
  lastFailureAt: r.last_failure_at as number | null,
  consecutiveFailures: r.consecutive_failures as number,
});

export class PgRunsRepo {
  readonly #db: PgDatabase;
  readonly #sql;

  constructor(db: PgDatabase) {
    this.#db = db;
    const s = db.s;
    this.#sql = {
      insert: `WITH r AS (
          INSERT INTO ${s}.runs (task, host, trigger, scheduled_for, not_before, queued_at, started_at, status, attempt, reason, dry_run, pid)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *),
        st AS (
          INSERT INTO ${s}.task_state (task, host, last_fire, last_started_at)
          SELECT task, host,
            CASE WHEN $13::boolean THEN scheduled_for END,
            CASE WHEN status = 'running' AND NOT dry_run AND ${EXECUTION} THEN coalesce(started_at, queued_at) END
          FROM r WHERE ($13::boolean AND scheduled_for IS NOT NULL)
            OR (status = 'running' AND NOT dry_run AND ${EXECUTION})
          ON CONFLICT (task, host) DO UPDATE SET
            last_fire = CASE WHEN excluded.last_fire IS NULL THEN task_state.last_fire
              ELSE greatest(coalesce(task_state.last_fire, 0), excluded.last_fire) END,
            last_started_at = coalesce(excluded.last_started_at, task_state.last_started_at))
        SELECT * FROM r`,
      claim: `INSERT INTO ${s}.task_state (task, host, last_fire) VALUES ($1, $2, $3)
        ON CONFLICT (task, host) DO UPDATE SET last_fire = greatest(coalesce(task_state.last_fire, 0), excluded.last_fire)`,
      start: `WITH r AS (UPDATE ${s}.runs SET status = 'running', started_at = $2, pid = $3 WHERE id = $1 RETURNING *)
        INSERT INTO ${s}.task_state (task, host, last_started_at) SELECT task, host, $2 FROM r WHERE NOT dry_run
        ON CONFLICT (task, host) DO UPDATE SET last_started_at = excluded.last_started_at`,
      // $10 counts it (an execution that succeeded or failed), $11 failed, $12 day, $13 ms, $14 bucket.
      finish: `WITH done AS (
          UPDATE ${s}.runs SET status = $2, finished_at = $3, started_at = coalesce($4, started_at),
            exit_code = $5, duration_ms = $6, output_tail = $7, result = $8::jsonb, reason = coalesce($9, reason)
          WHERE id = $1 RETURNING *),
        counted AS (SELECT * FROM done WHERE NOT dry_run AND ${EXECUTION} AND $10::boolean),
        st AS (
          INSERT INTO ${s}.task_state (task, host, last_finished_at, last_status, last_run_id, last_success_at, last_failure_at, consecutive_failures)
          SELECT task, host, $3, $2, id, CASE WHEN $11::boolean THEN NULL ELSE $3::bigint END,
            CASE WHEN $11::boolean THEN $3::bigint END, CASE WHEN $11::boolean THEN 1 ELSE 0 END FROM counted
          ON CONFLICT (task, host) DO UPDATE SET
            last_finished_at = excluded.last_finished_at, last_status = excluded.last_status, last_run_id = excluded.last_run_id,
            last_success_at = coalesce(excluded.last_success_at, task_state.last_success_at),
            last_failure_at = coalesce(excluded.last_failure_at, task_state.last_failure_at),
            consecutive_failures = CASE WHEN $11::boolean THEN task_state.consecutive_failures + 1 ELSE 0 END),
        stats AS (
          INSERT INTO ${s}.run_stats_daily AS d (task, day, runs, successes, failures, total_ms, max_ms, histogram)
          SELECT task, $12, 1, CASE WHEN $11::boolean THEN 0 ELSE 1 END, CASE WHEN $11::boolean THEN 1 ELSE 0 END,
            $13, $13, jsonb_build_object($14::text, 1) FROM counted
          ON CONFLICT (day, task) DO UPDATE SET runs = d.runs + 1, successes = d.successes + excluded.successes,
            failures = d.failures + excluded.failures, total_ms = d.total_ms + excluded.total_ms,
            max_ms = greatest(d.max_ms, excluded.max_ms),
            histogram = d.histogram || jsonb_build_object($14::text, coalesce((d.histogram ->> $14::text)::bigint, 0) + 1)),
        -- Lifetime totals (never pruned): every finished execution, whatever its status; $15 missed, $16 bucket.
        totals AS (
          INSERT INTO ${s}.run_totals AS t (task, host, status, runs, missed, total_ms, durations)
          SELECT task, host, status, 1, CASE WHEN $15::boolean THEN 1 ELSE 0 END, $13, jsonb_build_object($16::text, 1)
          FROM done WHERE NOT dry_run AND ${EXECUTION}
          ON CONFLICT (task, host, status) DO UPDATE SET runs = t.runs + 1, missed = t.missed + excluded.missed,
            total_ms = t.total_ms + excluded.total_ms,
            durations = t.durations || jsonb_build_object($16::text, coalesce((t.durations ->> $16::text)::bigint, 0) + 1))
        SELECT * FROM done`,
      notBefore: `UPDATE ${s}.runs SET not_before = $2 WHERE id = $1`,
      child: `UPDATE ${s}.runs SET child_pgid = $2, child_started = $3 WHERE id = $1`,
      get: `SELECT * FROM ${s}.runs WHERE id = $1`,
      active: `SELECT * FROM ${s}.runs WHERE host = $1 AND status IN ('queued', 'running') ORDER BY id`,
      states: `SELECT * FROM ${s}.task_state WHERE host = $1`,
      recent: `SELECT status, duration_ms FROM ${s}.runs WHERE task = $1 AND NOT dry_run AND ${EXECUTION}
        AND status IN ('success', 'warning', 'failed', 'timeout', 'interrupted') ORDER BY id DESC LIMIT $2`,
      // One index range per task (runs_by_task, backwards), joined LATERALly: a window function
      // over PARTITION BY task would number every run of every task to keep 30 of each.
      lastOfTasks: `SELECT r.* FROM unnest($1::text[]) AS t(task) CROSS JOIN LATERAL (
          SELECT id, task, status, duration_ms FROM ${s}.runs
          WHERE task = t.task ORDER BY id DESC LIMIT $2) AS r
        ORDER BY r.id DESC`,
      lastOfTasksOnHost: `SELECT r.* FROM unnest($1::text[]) AS t(task) CROSS JOIN LATERAL (
          SELECT id, task, status, duration_ms FROM ${s}.runs
          WHERE task = t.task AND host = $3 ORDER BY id DESC LIMIT $2) AS r
        ORDER BY r.id DESC`,
      pruneByAge: `DELETE FROM ${s}.runs WHERE id IN (SELECT id FROM ${s}.runs WHERE finished_at < $1
        AND status NOT IN ('queued', 'running') LIMIT ${PRUNE_BATCH})`,
      overCount: `SELECT task FROM ${s}.runs WHERE status NOT IN ('queued', 'running') GROUP BY task HAVING count(*) > $1`,
      countEdge: `SELECT id FROM ${s}.runs WHERE task = $1 AND status NOT IN ('queued', 'running') ORDER BY id DESC LIMIT 1 OFFSET $2`,
      pruneByCount: `DELETE FROM ${s}.runs WHERE id IN (SELECT id FROM ${s}.runs WHERE task = $1 AND id <= $2
        AND status NOT IN ('queued', 'running') LIMIT ${PRUNE_BATCH})`,
    };
  }

  async insert(run: NewRun): Promise<RunRecord> {
    const r = await this.#db.query<RunRow>(
      this.#sql.insert,
      [
        run.task,
        run.host,
        run.trigger,
        run.scheduledFor,
        run.notBefore,
        run.queuedAt,
        run.startedAt ?? null,
        run.status,
        run.attempt,
        pgText(run.reason ?? null),
        run.dryRun,
        run.pid,
        run.claimFire === true,
      ],
      'ct_run_insert',
    );
    return toRunRecord(r.rows[0]!);
  }

  async claimFire(task: string, host: string, fire: number): Promise<void> {
    await this.#db.query(this.#sql.claim, [task, host, fire], 'ct_run_claim');
  }

  async start(id: number, startedAt: number, pid: number): Promise<void> {
    await this.#db.query(this.#sql.start, [id, startedAt, pid], 'ct_run_start');
  }

  /** See Store.startRunGuarded: the guards' advisory locks (in key order), the counts, the start. */
  async startGuarded(
    id: number,
    startedAt: number,
    pid: number,
    guards: readonly StartGuard[],
  ): Promise<boolean> {
    return this.#db.transaction(async () => {
      for (const key of [...new Set(guards.map((g) => g.key))].sort())
        await this.#db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${this.#db.s}:start:${key}`]);
      for (const g of guards) {
        const r = await this.#db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${this.#db.s}.runs WHERE status = 'running' AND task = ANY($1) AND host <> $2`,
          [g.tasks, g.host],
        );
        if (r.rows[0]!.n + g.local >= g.cap) return false;
      }
      await this.start(id, startedAt, pid);
      return true;
    });
  }

  async finish(id: number, f: RunFinish): Promise<RunRecord> {
    const succeeded = SUCCESS_STATUSES.includes(f.status);
    const failed = FAILURE_STATUSES.includes(f.status);
    const ms = Math.max(0, Math.round(f.durationMs ?? 0));
    const r = await this.#db.query<RunRow>(
      this.#sql.finish,
      [
        id,
        f.status,
        f.finishedAt,
        f.startedAt ?? null,
        f.exitCode ?? null,
        f.durationMs ?? null,
        pgText(f.outputTail ?? null),
        f.result == null ? null : pgJson(f.result),
        pgText(f.reason ?? null),
        succeeded || failed,
        failed,
        Math.floor(f.finishedAt / DAY_MS),
        ms,
        String(bucketOf(ms)),
        f.missed === true,
        String(totalBucketOf(ms)),
      ],
      'ct_run_finish',
    );
    const row = r.rows[0];
    if (!row) throw new Error(`run ${id} does not exist`);
    return toRunRecord(row);
  }

  async setChildProcess(id: number, pgid: number, started: string | null): Promise<void> {
    await this.#db.query(this.#sql.child, [id, pgid, started], 'ct_run_child');
  }

  async setNotBefore(id: number, notBefore: number): Promise<void> {
    await this.#db.query(this.#sql.notBefore, [id, notBefore], 'ct_run_not_before');
  }

  async get(id: number): Promise<RunRecord | undefined> {
    const r = await this.#db.query<RunRow>(this.#sql.get, [id], 'ct_run_get');
    return r.rows[0] && toRunRecord(r.rows[0]);
  }

  async list(q: RunQuery): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (cond: string, v: unknown) => {
      params.push(v);
      where.push(cond.replace('?', `$${params.length}`));
    };
    if (q.task !== undefined) add('task = ?', q.task);
    if (q.host !== undefined) add('host = ?', q.host);
    if (q.beforeId !== undefined) add('id < ?', q.beforeId);
    if (q.statuses && q.statuses.length > 0) {
      for (const st of q.statuses)
        if (!RUN_STATUSES.includes(st)) throw new Error(`unknown run status ${st}`);
      // Inlined (checked against the enum) so the planner can use the partial index of failures.
      where.push(`status IN (${q.statuses.map((st) => `'${st}'`).join(', ')})`);
    }
    params.push(q.limit);
    const sql = `SELECT * FROM ${this.#db.s}.runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT $${params.length}`;
    return (await this.#db.query<RunRow>(sql, params)).rows.map(toRunRecord);
  }

  async lastOfTasks(q: LastRunsQuery): Promise<Map<string, RunBrief[]>> {
    const out = new Map<string, RunBrief[]>(q.tasks.map((t) => [t, []]));
    if (q.tasks.length === 0 || q.limit <= 0) return out;
    const r =
      q.host === undefined
        ? await this.#db.query<BriefRow>(this.#sql.lastOfTasks, [q.tasks, q.limit], 'ct_run_last_of_tasks')
        : await this.#db.query<BriefRow>(
            this.#sql.lastOfTasksOnHost,
            [q.tasks, q.limit, q.host],
            'ct_run_last_of_tasks_host',
          );
    for (const row of r.rows)
      out.get(row.task)?.push({
        id: row.id,
        task: row.task,
        status: row.status as RunStatus,
        durationMs: row.duration_ms,
      });
    return out;
  }

  async active(host: string): Promise<RunRecord[]> {
    return (await this.#db.query<RunRow>(this.#sql.active, [host], 'ct_run_active')).rows.map(toRunRecord);
  }

  async taskStates(host: string): Promise<Map<string, TaskState>> {
    const rows = (await this.#db.query(this.#sql.states, [host], 'ct_run_states')).rows;
    return new Map(rows.map((r) => [r.task as string, toTaskState(r)]));
  }

  async recent(task: string, limit: number): Promise<RecentRuns> {
    const rows = (
      await this.#db.query<{ status: RunStatus; duration_ms: number | null }>(
        this.#sql.recent,
        [task, limit],
        'ct_run_recent',
      )
    ).rows;
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

  async prune(before: number, keepRunsPerTask: number): Promise<number> {
    let deleted = 0;
    const drain = async (batch: () => Promise<number>) => {
      for (;;) {
        const n = await batch();
        deleted += n;
        if (n < PRUNE_BATCH) return;
      }
    };
    await drain(async () => (await this.#db.query(this.#sql.pruneByAge, [before])).rowCount);
    const tasks = (await this.#db.query<{ task: string }>(this.#sql.overCount, [keepRunsPerTask])).rows;
    for (const { task } of tasks) {
      const edge = (await this.#db.query<{ id: number }>(this.#sql.countEdge, [task, keepRunsPerTask]))
        .rows[0];
      if (edge)
        await drain(async () => (await this.#db.query(this.#sql.pruneByCount, [task, edge.id])).rowCount);
    }
    return deleted;
  }
}
