/**
 * The daily rollup in PostgreSQL (one row per task and UTC day, histogram as jsonb). The runs
 * repository adds to it in the statement that finishes a run; this one reads and prunes it.
 */
import type { DailyStats, FinalStatus, RunFigure, RunTotal } from '../types.js';
import type { PgDatabase } from './pg-database.js';

interface StatsRow {
  task: string;
  day: number;
  runs: number;
  successes: number;
  failures: number;
  total_ms: number;
  max_ms: number;
  histogram: Record<string, number>;
}

export class PgStatsRepo {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async dailyStats(sinceDay: number, task?: string): Promise<DailyStats[]> {
    const s = this.#db.s;
    const r =
      task === undefined
        ? await this.#db.query<StatsRow>(
            `SELECT * FROM ${s}.run_stats_daily WHERE day >= $1 ORDER BY day, task COLLATE "C"`,
            [sinceDay],
          )
        : await this.#db.query<StatsRow>(
            `SELECT * FROM ${s}.run_stats_daily WHERE day >= $1 AND task = $2 ORDER BY day`,
            [sinceDay, task],
          );
    return r.rows.map((x) => ({
      task: x.task,
      day: x.day,
      runs: x.runs,
      successes: x.successes,
      failures: x.failures,
      totalMs: x.total_ms,
      maxMs: x.max_ms,
      histogram: x.histogram,
    }));
  }

  /** What the rollup counted since `since`, run by run, with the host (StatsStore.runFigures). */
  async figures(since: number): Promise<RunFigure[]> {
    const r = await this.#db.query<{
      task: string;
      host: string;
      finished_at: number;
      status: string;
      duration_ms: number | null;
    }>(
      `SELECT task, host, finished_at, status, duration_ms FROM ${this.#db.s}.runs
        WHERE finished_at >= $1 AND NOT dry_run AND trigger NOT IN ('rollback', 'restore')
          AND status IN ('success', 'warning', 'failed', 'timeout', 'interrupted')`,
      [since],
    );
    return r.rows.map((x) => ({
      task: x.task,
      host: x.host,
      finishedAt: x.finished_at,
      status: x.status as RunFigure['status'],
      durationMs: x.duration_ms,
    }));
  }

  async prune(beforeDay: number): Promise<number> {
    return (await this.#db.query(`DELETE FROM ${this.#db.s}.run_stats_daily WHERE day < $1`, [beforeDay]))
      .rowCount;
  }

  async totals(host?: string): Promise<RunTotal[]> {
    const s = this.#db.s;
    const r = await this.#db.query<{
      task: string;
      host: string;
      status: string;
      runs: number;
      missed: number;
      total_ms: number;
      durations: Record<string, number>;
    }>(
      host === undefined
        ? `SELECT * FROM ${s}.run_totals ORDER BY task COLLATE "C", host COLLATE "C", status COLLATE "C"`
        : `SELECT * FROM ${s}.run_totals WHERE host = $1 ORDER BY task COLLATE "C", status COLLATE "C"`,
      host === undefined ? [] : [host],
    );
    return r.rows.map((x) => ({
      task: x.task,
      host: x.host,
      status: x.status as FinalStatus,
      runs: Number(x.runs),
      missed: Number(x.missed),
      totalMs: Number(x.total_ms),
      durations: x.durations,
    }));
  }
}
