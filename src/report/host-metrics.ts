/**
 * `caretaker metrics --by-host`: the figures of `metrics` per task and host. The daily rollup is
 * per task only (a fleet's hosts add into the same rows, and `store copy` adds a host's whole
 * rollup), so these come from the runs still kept in the window — runs pruned by `history:`
 * retention are missing here while the rollup still counts them. Pure: the caller fetches the
 * runs' figures and passes `today`.
 */
import { bucketOf } from '../store/duration-histogram.js';
import { FAILURE_STATUSES, SUCCESS_STATUSES, type DailyStats, type RunFigure } from '../store/types.js';
import { computeMetrics, type TaskMetrics } from './metrics.js';

export interface HostTaskMetrics extends TaskMetrics {
  readonly host: string;
}

export interface HostMetricsReport {
  readonly days: number;
  readonly fromDay: string;
  readonly toDay: string;
  /** Per task and host, by task then host. */
  readonly tasks: readonly HostTaskMetrics[];
  /** Every task of each host together, by host. */
  readonly hosts: readonly HostTaskMetrics[];
  /** Where the figures come from (the runs kept, not the rollup). */
  readonly basis: 'runs';
}

const DAY_MS = 86_400_000;

/** The runs of one host as the rows of a daily rollup. */
export function rollupOf(figures: readonly RunFigure[]): DailyStats[] {
  const rows = new Map<
    string,
    { -readonly [K in keyof DailyStats]: DailyStats[K] } & { histogram: Record<string, number> }
  >();
  for (const f of figures) {
    const succeeded = SUCCESS_STATUSES.includes(f.status);
    const failed = FAILURE_STATUSES.includes(f.status);
    if (!succeeded && !failed) continue;
    const day = Math.floor(f.finishedAt / DAY_MS);
    const key = `${f.task}\u0000${day}`;
    let r = rows.get(key);
    if (!r) {
      r = { task: f.task, day, runs: 0, successes: 0, failures: 0, totalMs: 0, maxMs: 0, histogram: {} };
      rows.set(key, r);
    }
    const ms = Math.max(0, Math.round(f.durationMs ?? 0));
    r.runs++;
    if (succeeded) r.successes++;
    else r.failures++;
    r.totalMs += ms;
    r.maxMs = Math.max(r.maxMs, ms);
    const b = String(bucketOf(ms));
    r.histogram[b] = (r.histogram[b] ?? 0) + 1;
  }
  return [...rows.values()];
}

export function computeHostMetrics(
  figures: readonly RunFigure[],
  days: number,
  today: number,
): HostMetricsReport {
  const byHost = new Map<string, RunFigure[]>();
  for (const f of figures) {
    const list = byHost.get(f.host) ?? [];
    list.push(f);
    byHost.set(f.host, list);
  }
  const tasks: HostTaskMetrics[] = [];
  const hosts: HostTaskMetrics[] = [];
  const empty = computeMetrics([], days, today);
  for (const host of [...byHost.keys()].sort((a, b) => a.localeCompare(b))) {
    const m = computeMetrics(rollupOf(byHost.get(host)!), days, today);
    for (const t of m.tasks) tasks.push({ ...t, host });
    hosts.push({ ...m.total, host });
  }
  tasks.sort((a, b) => a.task.localeCompare(b.task) || a.host.localeCompare(b.host));
  return { days, fromDay: empty.fromDay, toDay: empty.toDay, tasks, hosts, basis: 'runs' };
}
