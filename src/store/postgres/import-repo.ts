/**
 * The writes of `caretaker store copy` into PostgreSQL (store/copy-roles.ts HistoryImport). Each
 * method is one transaction, and each batch is one statement over a JSON array of rows
 * (jsonb_to_recordset): a batch of thousands of runs is one round trip. The marks that make a
 * copy idempotent live in `meta`, written in the transaction of the batch they describe.
 */
import type { PoolClient } from 'pg';
import type { CopyMark, HistoryImport, HostTaskState, StatsSnapshot } from '../copy-roles.js';
import type {
  DailyStats,
  DeliveryRecord,
  IncidentRecord,
  PingRecord,
  RunRecord,
  RunTotal,
  SampleKey,
  SamplePoint,
} from '../types.js';
import { CopyConflictError } from '../copy-conflict-error.js';
import type { PgDatabase } from './pg-database.js';
import { pgJson, pgText } from './pg-text.js';

// PostgreSQL text holds no NUL character, which SQLite keeps: it becomes U+FFFD in the copy.
const json = pgJson;
const text = (v: string | null): string | null => pgText(v);

const markKey = (source: string) => `copy:${source}:runs`;
const statsKey = (source: string) => `copy:${source}:stats`;
const totalsKey = (source: string) => `copy:${source}:totals`;

/** Snapshot rows as compact arrays: [task, day, runs, successes, failures, totalMs, maxMs, histogram]. */
type SnapshotRow = [string, number, number, number, number, number, number, Record<string, number>];

const statsRow = (d: DailyStats) => ({
  task: d.task,
  day: d.day,
  runs: d.runs,
  successes: d.successes,
  failures: d.failures,
  total_ms: d.totalMs,
  max_ms: d.maxMs,
  histogram: d.histogram,
});

/** The copy's writes but pauses, which the store's own pauses repository makes (PgStore.pauseTask). */
export class PgImportRepo implements Omit<HistoryImport, 'pauseTask'> {
  readonly #db: PgDatabase;
  readonly #sql;
  /**
   * Each mark as this process last read or wrote it. A write first takes the source's lock and
   * checks the mark is still that: a copy of the same source running meanwhile moved it.
   */
  readonly #seen = new Map<string, string | null>();

  constructor(db: PgDatabase) {
    this.#db = db;
    const s = db.s;
    this.#sql = {
      getMeta: `SELECT value FROM ${s}.meta WHERE key = $1`,
      lock: `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
      setMeta: `INSERT INTO ${s}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      runs: `INSERT INTO ${s}.runs (task, host, trigger, scheduled_for, not_before, queued_at, started_at, finished_at,
          status, attempt, exit_code, duration_ms, output_tail, result, reason, dry_run, pid, child_pgid, child_started)
        SELECT task, host, trigger, scheduled_for, not_before, queued_at, started_at, finished_at,
          status, attempt, exit_code, duration_ms, output_tail, result, reason, dry_run, pid, child_pgid, child_started
        FROM jsonb_to_recordset($1::jsonb) AS x(task text, host text, trigger text, scheduled_for bigint,
          not_before bigint, queued_at bigint, started_at bigint, finished_at bigint, status text, attempt integer,
          exit_code integer, duration_ms bigint, output_tail text, result jsonb, reason text, dry_run boolean,
          pid integer, child_pgid integer, child_started text)`,
      // Histograms add bucket by bucket; the longest run of the day is the longer of the two.
      stats: `INSERT INTO ${s}.run_stats_daily AS d (task, day, runs, successes, failures, total_ms, max_ms, histogram)
        SELECT task, day, runs, successes, failures, total_ms, max_ms, histogram
        FROM jsonb_to_recordset($1::jsonb) AS x(task text, day integer, runs bigint, successes bigint, failures bigint,
          total_ms bigint, max_ms bigint, histogram jsonb)
        ON CONFLICT (day, task) DO UPDATE SET runs = d.runs + excluded.runs, successes = d.successes + excluded.successes,
          failures = d.failures + excluded.failures, total_ms = d.total_ms + excluded.total_ms,
          max_ms = greatest(d.max_ms, excluded.max_ms),
          histogram = (SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb) FROM (
            SELECT key AS k, sum(value::bigint) AS n FROM (
              SELECT * FROM jsonb_each_text(d.histogram) UNION ALL SELECT * FROM jsonb_each_text(excluded.histogram)) u
            GROUP BY key) g)`,
      totals: `INSERT INTO ${s}.run_totals AS t (task, host, status, runs, missed, total_ms, durations)
        SELECT task, host, status, runs, missed, total_ms, durations
        FROM jsonb_to_recordset($1::jsonb) AS x(task text, host text, status text, runs bigint, missed bigint,
          total_ms bigint, durations jsonb)
        ON CONFLICT (task, host, status) DO UPDATE SET runs = t.runs + excluded.runs, missed = t.missed + excluded.missed,
          total_ms = t.total_ms + excluded.total_ms,
          durations = (SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb) FROM (
            SELECT key AS k, sum(value::bigint) AS n FROM (
              SELECT * FROM jsonb_each_text(t.durations) UNION ALL SELECT * FROM jsonb_each_text(excluded.durations)) u
            GROUP BY key) g)`,
      // The newest finish of the two brings its status, run and failure streak; instants keep the later.
      states: `INSERT INTO ${s}.task_state AS t (task, host, last_fire, last_started_at, last_finished_at, last_status,
          last_run_id, last_success_at, last_failure_at, consecutive_failures)
        SELECT x.task, x.host, x.last_fire, x.last_started_at, x.last_finished_at, x.last_status,
          (SELECT r.id FROM ${s}.runs r WHERE r.task = x.task AND r.host = x.host AND r.finished_at = x.last_finished_at
            ORDER BY r.id DESC LIMIT 1),
          x.last_success_at, x.last_failure_at, x.consecutive_failures
        FROM jsonb_to_recordset($1::jsonb) AS x(task text, host text, last_fire bigint, last_started_at bigint,
          last_finished_at bigint, last_status text, last_success_at bigint, last_failure_at bigint,
          consecutive_failures integer)
        ON CONFLICT (task, host) DO UPDATE SET
          last_fire = greatest(t.last_fire, excluded.last_fire),
          last_started_at = greatest(t.last_started_at, excluded.last_started_at),
          last_finished_at = greatest(t.last_finished_at, excluded.last_finished_at),
          last_status = CASE WHEN excluded.last_finished_at > coalesce(t.last_finished_at, -1) THEN excluded.last_status ELSE t.last_status END,
          last_run_id = CASE WHEN excluded.last_finished_at > coalesce(t.last_finished_at, -1) THEN excluded.last_run_id ELSE t.last_run_id END,
          consecutive_failures = CASE WHEN excluded.last_finished_at > coalesce(t.last_finished_at, -1)
            THEN excluded.consecutive_failures ELSE t.consecutive_failures END,
          last_success_at = greatest(t.last_success_at, excluded.last_success_at),
          last_failure_at = greatest(t.last_failure_at, excluded.last_failure_at)
        WHERE excluded.last_fire > coalesce(t.last_fire, -1) OR excluded.last_started_at > coalesce(t.last_started_at, -1)
          OR excluded.last_finished_at > coalesce(t.last_finished_at, -1)
          OR excluded.last_success_at > coalesce(t.last_success_at, -1)
          OR excluded.last_failure_at > coalesce(t.last_failure_at, -1)`,
      sampleKey: `INSERT INTO ${s}.sample_keys (task, key, unit, better) VALUES ($1, $2, $3, $4)
        ON CONFLICT (task, key) DO UPDATE SET task = excluded.task RETURNING id`,
      samples: `INSERT INTO ${s}.samples (key_id, at, value) SELECT $1, * FROM unnest($2::bigint[], $3::float8[])
        ON CONFLICT (key_id, at) DO NOTHING`,
      incident: `INSERT INTO ${s}.incidents (key, subject_kind, subject_id, event, level, opened_at, last_seen_at,
          last_notified_at, occurrences, notifications, message, one_shot, closed_at)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
        WHERE NOT EXISTS (SELECT 1 FROM ${s}.incidents WHERE key = $1 AND opened_at = $6) RETURNING id`,
      deliveries: `INSERT INTO ${s}.deliveries (incident_id, channel, event, status, attempts, created_at, finished_at, error, payload)
        SELECT $1, channel, event, status, attempts, created_at, finished_at, error, payload
        FROM jsonb_to_recordset($2::jsonb) AS x(channel text, event text, status text, attempts integer,
          created_at bigint, finished_at bigint, error text, payload text)`,
      pings: `INSERT INTO ${s}.pings (name, at, ok, source, message)
        SELECT x.name, x.at, x.ok, x.source, x.message
        FROM jsonb_to_recordset($1::jsonb) AS x(name text, at bigint, ok boolean, source text, message text)
        WHERE NOT EXISTS (SELECT 1 FROM ${s}.pings p WHERE p.name = x.name AND p.at = x.at AND p.ok = x.ok)`,
    };
  }

  async #meta(key: string): Promise<string | undefined> {
    const value = (await this.#db.query<{ value: string }>(this.#sql.getMeta, [key])).rows[0]?.value;
    this.#seen.set(key, value ?? null);
    return value;
  }

  /** Inside a batch's transaction: the source's lock, and its mark still as this process saw it. */
  async #claim(c: PoolClient, key: string): Promise<void> {
    await c.query(this.#sql.lock, [`caretaker copy ${key}`]);
    const now = (await c.query<{ value: string }>(this.#sql.getMeta, [key])).rows[0]?.value ?? null;
    if (this.#seen.has(key) && this.#seen.get(key) !== now)
      throw new CopyConflictError(
        'another store copy of this history into this store ran at the same time; nothing of this batch was kept — run store copy again once it has finished',
      );
  }

  async #setMeta(c: PoolClient, key: string, value: string): Promise<void> {
    await c.query(this.#sql.setMeta, [key, value]);
  }

  /** One write of a copy: claimed, done, marked, in one transaction. */
  async #transaction<T>(
    key: string,
    value: string,
    fn: (c: PoolClient) => Promise<T>,
    beforeCommit?: () => void,
  ): Promise<T> {
    const out = await this.#db.transaction(async (c) => {
      await this.#claim(c, key);
      const r = await fn(c);
      await this.#setMeta(c, key, value);
      beforeCommit?.();
      return r;
    });
    this.#seen.set(key, value);
    return out;
  }

  async copyMark(source: string): Promise<CopyMark | undefined> {
    const v = await this.#meta(markKey(source));
    return v === undefined ? undefined : (JSON.parse(v) as CopyMark);
  }

  async importRuns(
    source: string,
    runs: readonly RunRecord[],
    mark: CopyMark,
    beforeCommit?: () => void,
  ): Promise<number> {
    return this.#transaction(
      markKey(source),
      JSON.stringify(mark),
      async (c) => {
        let n = 0;
        if (runs.length > 0) {
          const rows = runs.map((r) => ({
            task: r.task,
            host: r.host,
            trigger: r.trigger,
            scheduled_for: r.scheduledFor,
            not_before: r.notBefore,
            queued_at: r.queuedAt,
            started_at: r.startedAt,
            finished_at: r.finishedAt,
            status: r.status,
            attempt: r.attempt,
            exit_code: r.exitCode,
            duration_ms: r.durationMs,
            output_tail: r.outputTail,
            result: r.result,
            reason: r.reason,
            dry_run: r.dryRun,
            pid: r.pid,
            child_pgid: r.childPgid,
            child_started: r.childStarted,
          }));
          n = (await c.query(this.#sql.runs, [json(rows)])).rowCount ?? 0;
        }
        return n;
      },
      beforeCommit,
    );
  }

  async statsSnapshot(source: string): Promise<StatsSnapshot | undefined> {
    const v = await this.#meta(statsKey(source));
    if (v === undefined) return undefined;
    return (JSON.parse(v) as SnapshotRow[]).map(
      ([task, day, runs, successes, failures, totalMs, maxMs, histogram]) => ({
        task,
        day,
        runs,
        successes,
        failures,
        totalMs,
        maxMs,
        histogram,
      }),
    );
  }

  async mergeStats(source: string, delta: readonly DailyStats[], snapshot: StatsSnapshot): Promise<number> {
    const rows: SnapshotRow[] = snapshot.map((d) => [
      d.task,
      d.day,
      d.runs,
      d.successes,
      d.failures,
      d.totalMs,
      d.maxMs,
      { ...d.histogram },
    ]);
    return this.#transaction(statsKey(source), JSON.stringify(rows), async (c) =>
      delta.length === 0 ? 0 : ((await c.query(this.#sql.stats, [json(delta.map(statsRow))])).rowCount ?? 0),
    );
  }

  async totalsSnapshot(source: string): Promise<readonly RunTotal[] | undefined> {
    const v = await this.#meta(totalsKey(source));
    return v === undefined ? undefined : (JSON.parse(v) as RunTotal[]);
  }

  async mergeTotals(
    source: string,
    delta: readonly RunTotal[],
    snapshot: readonly RunTotal[],
  ): Promise<number> {
    const rows = delta.map((t) => ({
      task: t.task,
      host: t.host,
      status: t.status,
      runs: t.runs,
      missed: t.missed,
      total_ms: t.totalMs,
      durations: t.durations,
    }));
    return this.#transaction(totalsKey(source), JSON.stringify(snapshot), async (c) =>
      rows.length === 0 ? 0 : ((await c.query(this.#sql.totals, [json(rows)])).rowCount ?? 0),
    );
  }

  async mergeTaskStates(states: readonly HostTaskState[]): Promise<number> {
    if (states.length === 0) return 0;
    const rows = states.map((t) => ({
      task: t.task,
      host: t.host,
      last_fire: t.lastFire,
      last_started_at: t.lastStartedAt,
      last_finished_at: t.lastFinishedAt,
      last_status: t.lastStatus,
      last_success_at: t.lastSuccessAt,
      last_failure_at: t.lastFailureAt,
      consecutive_failures: t.consecutiveFailures,
    }));
    return (await this.#db.query(this.#sql.states, [json(rows)])).rowCount;
  }

  async importSamples(key: SampleKey, points: readonly SamplePoint[]): Promise<number> {
    if (points.length === 0) return 0;
    return this.#db.transaction(async (c) => {
      const id = (
        await c.query<{ id: number }>(this.#sql.sampleKey, [key.task, key.key, key.unit, key.better])
      ).rows[0]!.id;
      const r = await c.query(this.#sql.samples, [id, points.map((p) => p.at), points.map((p) => p.value)]);
      return r.rowCount ?? 0;
    });
  }

  async importIncident(i: IncidentRecord, deliveries: readonly DeliveryRecord[]): Promise<boolean> {
    return this.#db.transaction(async (c) => {
      const r = await c.query<{ id: number }>(this.#sql.incident, [
        i.key,
        i.subjectKind,
        text(i.subjectId),
        i.event,
        i.level,
        i.openedAt,
        i.lastSeenAt,
        i.lastNotifiedAt,
        i.occurrences,
        i.notifications,
        text(i.message),
        i.oneShot,
        i.closedAt,
      ]);
      const id = r.rows[0]?.id;
      if (id === undefined) return false;
      if (deliveries.length > 0) {
        const rows = deliveries.map((d) => ({
          channel: d.channel,
          event: d.event,
          status: d.status,
          attempts: d.attempts,
          created_at: d.createdAt,
          finished_at: d.finishedAt,
          error: d.error,
          payload: d.payload,
        }));
        await c.query(this.#sql.deliveries, [id, json(rows)]);
      }
      return true;
    });
  }

  async importPings(pings: readonly PingRecord[]): Promise<number> {
    if (pings.length === 0) return 0;
    return (await this.#db.query(this.#sql.pings, [json(pings)])).rowCount;
  }
}
