/**
 * The daily rollup in SQLite: one row per task and UTC day with counts, total and max duration
 * and a log-bucketed duration histogram (store/duration-histogram.ts). RunsRepo adds to it in
 * the transaction that finishes a run.
 */
import { bucketOf, totalBucketOf } from '../duration-histogram.js';
import type { DailyStats, FinalStatus, RunFigure, RunTotal } from '../types.js';
import { lazyStatements } from './lazy-statements.js';
import type { SqliteDatabase } from './sqlite-database.js';

const DAY_MS = 86_400_000;

export interface FinishedExecution {
  readonly task: string;
  readonly finishedAt: number;
  readonly durationMs: number | null | undefined;
  readonly succeeded: boolean;
  readonly failed: boolean;
}

export class StatsRepo {
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#s = lazyStatements(db, {
      histogram: `SELECT histogram FROM run_stats_daily WHERE day = ? AND task = ?`,
      upsert: `INSERT INTO run_stats_daily (task, day, runs, successes, failures, total_ms, max_ms, histogram)
        VALUES (@task, @day, 1, @success, @failure, @ms, @ms, @histogram)
        ON CONFLICT (day, task) DO UPDATE SET runs = runs + 1, successes = successes + @success, failures = failures + @failure,
          total_ms = total_ms + @ms, max_ms = max(max_ms, @ms), histogram = @histogram`,
      since: `SELECT * FROM run_stats_daily WHERE day >= ? ORDER BY day, task`,
      sinceForTask: `SELECT * FROM run_stats_daily WHERE day >= ? AND task = ? ORDER BY day`,
      prune: `DELETE FROM run_stats_daily WHERE day < ?`,
      totalDurations: `SELECT durations FROM run_totals WHERE task = ? AND host = ? AND status = ?`,
      total: `INSERT INTO run_totals (task, host, status, runs, missed, total_ms, durations)
        VALUES (@task, @host, @status, 1, @missed, @ms, @durations)
        ON CONFLICT (task, host, status) DO UPDATE SET runs = runs + 1, missed = missed + @missed,
          total_ms = total_ms + @ms, durations = @durations`,
      totals: `SELECT * FROM run_totals ORDER BY task, host, status`,
      totalsOfHost: `SELECT * FROM run_totals WHERE host = ? ORDER BY task, status`,
      figures: `SELECT task, host, finished_at AS finishedAt, status, duration_ms AS durationMs FROM runs
        WHERE finished_at >= ? AND dry_run = 0 AND trigger NOT IN ('rollback', 'restore')
          AND status IN ('success', 'warning', 'failed', 'timeout', 'interrupted')`,
    });
  }

  /** Counts one finished execution; runs inside the caller's transaction. */
  add(e: FinishedExecution): void {
    const day = Math.floor(e.finishedAt / DAY_MS);
    const ms = Math.max(0, Math.round(e.durationMs ?? 0));
    const existing = this.#s.histogram.get(day, e.task) as { histogram: string } | undefined;
    const hist = existing ? (JSON.parse(existing.histogram) as Record<string, number>) : {};
    const b = bucketOf(ms);
    hist[b] = (hist[b] ?? 0) + 1;
    this.#s.upsert.run({
      task: e.task,
      day,
      success: e.succeeded ? 1 : 0,
      failure: e.failed ? 1 : 0,
      ms,
      histogram: JSON.stringify(hist),
    });
  }

  /**
   * Counts one finished execution (any final status) in the lifetime totals; runs inside the
   * caller's transaction.
   */
  addTotal(e: {
    readonly task: string;
    readonly host: string;
    readonly status: FinalStatus;
    readonly durationMs: number | null | undefined;
    readonly missed: boolean;
  }): void {
    const ms = Math.max(0, Math.round(e.durationMs ?? 0));
    const existing = this.#s.totalDurations.get(e.task, e.host, e.status) as
      { durations: string } | undefined;
    const durations = existing ? (JSON.parse(existing.durations) as Record<string, number>) : {};
    const b = totalBucketOf(ms);
    durations[b] = (durations[b] ?? 0) + 1;
    this.#s.total.run({
      task: e.task,
      host: e.host,
      status: e.status,
      missed: e.missed ? 1 : 0,
      ms,
      durations: JSON.stringify(durations),
    });
  }

  totals(host?: string): RunTotal[] {
    const rows = (host === undefined ? this.#s.totals.all() : this.#s.totalsOfHost.all(host)) as Record<
      string,
      number | string
    >[];
    return rows.map((r) => ({
      task: r.task as string,
      host: r.host as string,
      status: r.status as FinalStatus,
      runs: r.runs as number,
      missed: r.missed as number,
      totalMs: r.total_ms as number,
      durations: JSON.parse(r.durations as string) as Record<string, number>,
    }));
  }

  dailyStats(sinceDay: number, task?: string): DailyStats[] {
    const rows = (
      task === undefined ? this.#s.since.all(sinceDay) : this.#s.sinceForTask.all(sinceDay, task)
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

  /** What the rollup counted since `since`, run by run, with the host (StatsStore.runFigures). */
  figures(since: number): RunFigure[] {
    return this.#s.figures.all(since) as unknown as RunFigure[];
  }

  prune(beforeDay: number): number {
    return this.#s.prune.run(beforeDay).changes;
  }
}
