/**
 * The daily rollup in SQLite: one row per task and UTC day with counts, total and max duration
 * and a log-bucketed duration histogram (store/duration-histogram.ts). RunsRepo adds to it in
 * the transaction that finishes a run.
 */
import { bucketOf } from '../duration-histogram.js';
import type { DailyStats, RunFigure } from '../types.js';
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
