/**
 * What GET /metrics (and the metrics textfile) says, read from the store at scrape time: counters
 * from the lifetime totals (never pruned: they survive restarts and prunes and are per host in a
 * fleet), last successes from the task state, backups, health checks and the disk forecast from
 * each task's latest run, what runs and what is due next from the engine. Base units (seconds,
 * bytes, ratios); `_total` only on counters; a `host` label on every sample in fleet mode, where
 * each daemon reports its own host's runs (sum over hosts is the fleet).
 */
import type { DiskForecast } from '../actions/health/analysis.js';
import type { CheckResult } from '../actions/health/check-types.js';
import type { Config } from '../config/types.js';
import { TOTAL_BUCKETS_MS } from '../store/duration-histogram.js';
import {
  FAILURE_STATUSES,
  RUN_STATUSES,
  SUCCESS_STATUSES,
  type FinalStatus,
  type RunRecord,
  type RunStatus,
  type RunTotal,
  type Store,
} from '../store/types.js';
import { writeExposition, type MetricFamily, type Sample } from '../report/prometheus-text.js';

/** What the engine tells (null without a running scheduler: next runs and running are then not known). */
export interface EngineView {
  upcoming(): readonly { readonly task: string; readonly dueAt: number }[];
  running(): readonly RunRecord[];
}

export interface MetricsInput {
  readonly config: Config;
  readonly store: Store;
  readonly engine: EngineView | null;
  readonly version: string;
  /**
   * The ids of the paused tasks. Pause/resume is not in this version yet: the caller passes an
   * empty set and every task reports 0.
   */
  readonly paused: ReadonlySet<string>;
}

const FINAL_STATUSES = RUN_STATUSES.filter((s): s is FinalStatus => s !== 'queued' && s !== 'running');
const COUNTED: readonly RunStatus[] = [...SUCCESS_STATUSES, ...FAILURE_STATUSES];
const FINISHED_WITH_RESULT: RunStatus[] = ['success', 'warning', 'failed'];
const CHECK_STATUS = { ok: 0, warn: 1, fail: 2 } as const;
const seconds = (ms: number) => ms / 1000;

/** 23.33 / 100 is 0.23329999999999998 in binary: 12 significant digits say what was measured. */
const tidy = (x: number) => Number(x.toPrecision(12));

/** A check's headline value in base units, and the unit it is then in. */
function baseUnit(value: number, unit: string | undefined): { value: number; unit: string } {
  switch (unit) {
    case 'ms':
      return { value: tidy(value / 1000), unit: 'seconds' };
    case 'days':
      return { value: tidy(value * 86_400), unit: 'seconds' };
    case '%':
      return { value: tidy(value / 100), unit: 'ratio' };
    default:
      return { value, unit: unit ?? '' };
  }
}

/** The latest real (not dry) run of a task in these statuses with a result, on this host in a fleet. */
async function latestResult(
  store: Store,
  task: string,
  host: string | undefined,
  statuses: readonly RunStatus[],
): Promise<RunRecord | undefined> {
  const runs = await store.listRuns({ task, host, limit: 5, statuses });
  return runs.find((r) => !r.dryRun && r.result !== null);
}

export async function gatherMetrics(i: MetricsInput): Promise<MetricFamily[]> {
  const { config, store } = i;
  const fleet = config.store.kind === 'postgres';
  // In a fleet, this host's series (the store holds every host's); alone, whatever the store holds.
  const own = fleet ? config.host : undefined;
  const base: Record<string, string> = fleet ? { host: config.host } : {};
  const l = (labels: Record<string, string>) => ({ ...base, ...labels });
  const configured = config.tasks.map((t) => t.id);

  const [totals, states, incidents] = await Promise.all([
    store.runTotals(own),
    store.taskStates(config.host),
    store.listIncidents({ open: true, limit: 100_000 }),
  ]);

  // ---- counters from the lifetime totals ----
  const byTask = new Map<string, RunTotal[]>();
  for (const t of totals) {
    const list = byTask.get(t.task) ?? [];
    list.push(t);
    byTask.set(t.task, list);
  }
  const taskIds = [...configured, ...[...byTask.keys()].filter((t) => !configured.includes(t)).sort()];
  const runsTotal: Sample[] = [];
  const missed: Sample[] = [];
  const duration: Sample[] = [];
  for (const task of taskIds) {
    const rows = byTask.get(task) ?? [];
    const runsBy = new Map<string, number>();
    let missedRuns = 0;
    const buckets = new Array<number>(TOTAL_BUCKETS_MS.length + 1).fill(0);
    let sumMs = 0;
    for (const r of rows) {
      runsBy.set(r.status, (runsBy.get(r.status) ?? 0) + r.runs);
      missedRuns += r.missed;
      if (!COUNTED.includes(r.status)) continue;
      sumMs += r.totalMs;
      for (const k in r.durations) buckets[Math.min(Number(k), TOTAL_BUCKETS_MS.length)]! += r.durations[k]!;
    }
    // Every status of a configured task from 0, so the first failure is an increase, not a new series.
    for (const status of FINAL_STATUSES)
      runsTotal.push({ labels: l({ task, status }), value: runsBy.get(status) ?? 0 });
    missed.push({ labels: l({ task }), value: missedRuns });
    let cumulative = 0;
    for (let b = 0; b < buckets.length; b++) {
      cumulative += buckets[b]!;
      const le = b < TOTAL_BUCKETS_MS.length ? String(seconds(TOTAL_BUCKETS_MS[b]!)) : '+Inf';
      duration.push({ suffix: '_bucket', labels: l({ task, le }), value: cumulative });
    }
    duration.push({ suffix: '_sum', labels: l({ task }), value: seconds(sumMs) });
    duration.push({ suffix: '_count', labels: l({ task }), value: cumulative });
  }

  // ---- gauges of the configured tasks ----
  const lastSuccess: Sample[] = [];
  for (const task of configured) {
    const at = states.get(task)?.lastSuccessAt;
    if (at != null) lastSuccess.push({ labels: l({ task }), value: seconds(at) });
  }
  const nextRun: Sample[] = [];
  const running: Sample[] = [];
  if (i.engine) {
    const next = new Map<string, number>();
    for (const u of i.engine.upcoming()) next.set(u.task, Math.min(next.get(u.task) ?? Infinity, u.dueAt));
    const busy = new Map<string, number>();
    for (const r of i.engine.running()) busy.set(r.task, (busy.get(r.task) ?? 0) + 1);
    for (const task of configured) {
      const at = next.get(task);
      if (at !== undefined) nextRun.push({ labels: l({ task }), value: seconds(at) });
      running.push({ labels: l({ task }), value: busy.get(task) ?? 0 });
    }
  }
  const paused = configured.map((task) => ({ labels: l({ task }), value: i.paused.has(task) ? 1 : 0 }));

  // ---- backups, health checks, disk forecast: each task's latest run ----
  const verified: Sample[] = [];
  const size: Sample[] = [];
  const checkStatus: Sample[] = [];
  const checkValue: Sample[] = [];
  const diskFull: Sample[] = [];
  const kinds = new Set(['backup', 'verify-backups', 'health']);
  // Backups: the latest that succeeded (a failed one after it must not hide when the last good
  // archive was made and verified: the "not verified in a day" alert has to keep firing).
  // Health: the latest, whatever its outcome (a failing check fails the run).
  const latest = await Promise.all(
    config.tasks.map((t) =>
      kinds.has(t.action)
        ? latestResult(store, t.id, own, t.action === 'health' ? FINISHED_WITH_RESULT : SUCCESS_STATUSES)
        : undefined,
    ),
  );
  config.tasks.forEach((t, n) => {
    const run = latest[n];
    const details = run?.result?.details as Record<string, unknown> | undefined;
    if (!run || !details) return;
    const at = seconds(run.finishedAt ?? 0);
    if (t.action === 'backup') {
      if (typeof details.bytesOut === 'number')
        size.push({ labels: l({ task: t.id }), value: details.bytesOut });
      if (details.verified === true) verified.push({ labels: l({ task: t.id }), value: at });
    } else if (t.action === 'verify-backups' && Number(details.checked) > 0) {
      verified.push({ labels: l({ task: t.id }), value: at });
    } else if (t.action === 'health') {
      for (const c of (details.checks as CheckResult[] | undefined) ?? []) {
        if (c.status === 'skipped') continue;
        const check = c.name;
        checkStatus.push({ labels: l({ task: t.id, kind: c.kind, check }), value: CHECK_STATUS[c.status] });
        if (typeof c.value === 'number' && Number.isFinite(c.value)) {
          const v = baseUnit(c.value, c.unit);
          checkValue.push({ labels: l({ task: t.id, kind: c.kind, check, unit: v.unit }), value: v.value });
        }
      }
      for (const f of (details.forecasts as DiskForecast[] | undefined) ?? []) {
        if (f.fullAt === null) continue;
        diskFull.push({
          labels: l({ task: t.id, check: f.check, path: f.path }),
          value: seconds(Date.parse(f.fullAt)),
        });
      }
    }
  });

  const family = (name: string, type: MetricFamily['type'], help: string, samples: readonly Sample[]) => ({
    name,
    type,
    help,
    samples,
  });
  return [
    family(
      'caretaker_build_info',
      'gauge',
      'The caretaker version and Node.js version serving these metrics (always 1).',
      [{ labels: l({ version: i.version, node: process.version }), value: 1 }],
    ),
    family(
      'caretaker_task_runs_total',
      'counter',
      'Finished executions of a task by final status (dry runs and rollback records not counted).',
      runsTotal,
    ),
    family(
      'caretaker_task_duration_seconds',
      'histogram',
      'How long executions that succeeded or failed took.',
      duration,
    ),
    family(
      'caretaker_task_last_success_timestamp_seconds',
      'gauge',
      'When the task last finished successfully (success or warning).',
      lastSuccess,
    ),
    family(
      'caretaker_task_next_run_timestamp_seconds',
      'gauge',
      'When the scheduler will next start the task.',
      nextRun,
    ),
    family('caretaker_task_running', 'gauge', 'Runs of the task running now.', running),
    family('caretaker_task_paused', 'gauge', '1 while the task is paused, else 0.', paused),
    family(
      'caretaker_missed_runs_total',
      'counter',
      'Skips recorded for scheduled runs missed (daemon down, machine asleep, starting_deadline passed); one skip may stand for several slots.',
      missed,
    ),
    family('caretaker_incidents_open', 'gauge', 'Incidents open now.', [
      { labels: l({}), value: incidents.length },
    ]),
    family(
      'caretaker_backup_last_verified_timestamp_seconds',
      'gauge',
      'When the latest successful run of a backup task verified its archive, or of a verify-backups task checked archives.',
      verified,
    ),
    family(
      'caretaker_backup_size_bytes',
      'gauge',
      'Size of the archive the latest successful backup wrote.',
      size,
    ),
    family(
      'caretaker_health_check_status',
      'gauge',
      "A health check's status at the task's latest run: 0 ok, 1 warn, 2 fail (skipped checks are left out).",
      checkStatus,
    ),
    family(
      'caretaker_health_check_value',
      'gauge',
      "A health check's measured value at the task's latest run, in the unit of its `unit` label (ms turned to seconds, % to a ratio).",
      checkValue,
    ),
    family(
      'caretaker_disk_full_timestamp_seconds',
      'gauge',
      "When a disk check's forecast says the disk will be full at the current growth (absent while it is not growing).",
      diskFull,
    ),
  ];
}

/** The exposition text of the metrics. */
export async function prometheusText(i: MetricsInput): Promise<string> {
  return writeExposition(await gatherMetrics(i));
}
