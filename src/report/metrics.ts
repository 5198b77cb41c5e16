/**
 * Success rates, durations (avg, p50, p95, max) and trends per task from the daily rollups.
 * Pure: the caller fetches the rollups and passes `today`.
 */
import { addSparse, denseHistogram, denseQuantile } from '../store/duration-histogram.js';
import type { DailyStats } from '../store/types.js';

export type Trend = 'improving' | 'stable' | 'degrading' | 'n/a';

export interface TaskMetrics {
  readonly task: string;
  readonly runs: number;
  readonly successes: number;
  readonly failures: number;
  /** 0-1, or null without runs. */
  readonly successRate: number | null;
  readonly avgMs: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
  /** Recent half of the window against the older half: success rate first, then duration. */
  readonly trend: Trend;
}

export interface MetricsReport {
  readonly days: number;
  readonly fromDay: string;
  readonly toDay: string;
  readonly tasks: readonly TaskMetrics[];
  readonly total: TaskMetrics;
}

const dayString = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10);

function summarize(task: string, rows: readonly DailyStats[], splitDay: number): TaskMetrics {
  const hist = denseHistogram();
  let runs = 0;
  let successes = 0;
  let failures = 0;
  let totalMs = 0;
  let maxMs = 0;
  for (const r of rows) {
    runs += r.runs;
    successes += r.successes;
    failures += r.failures;
    totalMs += r.totalMs;
    maxMs = Math.max(maxMs, r.maxMs);
    addSparse(hist, r.histogram);
  }
  const half = (recent: boolean) => {
    const part = rows.filter((r) => r.day >= splitDay === recent);
    const n = part.reduce((s, r) => s + r.runs, 0);
    return {
      n,
      rate: n === 0 ? 0 : part.reduce((s, r) => s + r.successes, 0) / n,
      avg: n === 0 ? 0 : part.reduce((s, r) => s + r.totalMs, 0) / n,
    };
  };
  const older = half(false);
  const recent = half(true);
  let trend: Trend = 'n/a';
  if (older.n > 0 && recent.n > 0) {
    if (recent.rate - older.rate > 0.05) trend = 'improving';
    else if (older.rate - recent.rate > 0.05) trend = 'degrading';
    else if (older.avg > 0 && recent.avg > older.avg * 1.2) trend = 'degrading';
    else if (older.avg > 0 && recent.avg < older.avg * 0.8) trend = 'improving';
    else trend = 'stable';
  }
  return {
    task,
    runs,
    successes,
    failures,
    successRate: runs === 0 ? null : successes / runs,
    avgMs: runs === 0 ? null : totalMs / runs,
    p50Ms: denseQuantile(hist, 0.5),
    p95Ms: denseQuantile(hist, 0.95),
    maxMs: runs === 0 ? null : maxMs,
    trend,
  };
}

export function computeMetrics(rows: readonly DailyStats[], days: number, today: number): MetricsReport {
  const fromDay = today - days + 1;
  const inRange = rows.filter((r) => r.day >= fromDay && r.day <= today);
  const splitDay = fromDay + Math.floor(days / 2);
  const byTask = new Map<string, DailyStats[]>();
  for (const r of inRange) {
    const list = byTask.get(r.task) ?? [];
    list.push(r);
    byTask.set(r.task, list);
  }
  const tasks = [...byTask.entries()]
    .map(([task, list]) => summarize(task, list, splitDay))
    .sort((a, b) => a.task.localeCompare(b.task));
  return {
    days,
    fromDay: dayString(fromDay),
    toDay: dayString(today),
    tasks,
    total: summarize('(all)', inRange, splitDay),
  };
}
