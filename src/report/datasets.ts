/**
 * caretaker's own records as tables: run history and per-task metrics over N days. The same
 * tables feed `caretaker export`, the `export` action and the summary report.
 */
import type { DatasetSource } from '../actions/types.js';
import type { Clock } from '../core/clock.js';
import type { Cell, Dataset } from '../core/dataset.js';
import type { IncidentRecord, RunRecord, Store } from '../store/types.js';
import { computeMetrics } from './metrics.js';

const DAY = 86_400_000;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** Runs queued at or after `since`, newest first (paged, so a long history is not one query). */
export async function runsSince(store: Store, since: number, task?: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let beforeId: number | undefined;
  for (;;) {
    const page = await store.listRuns({ limit: 2_000, beforeId, task });
    for (const r of page) if (r.queuedAt >= since) out.push(r);
    if (page.length < 2_000 || page[page.length - 1]!.queuedAt < since) return out;
    beforeId = page[page.length - 1]!.id;
  }
}

export const HISTORY_COLUMNS = [
  'id',
  'task',
  'host',
  'status',
  'trigger',
  'attempt',
  'dry_run',
  'queued_at',
  'started_at',
  'finished_at',
  'duration_ms',
  'exit_code',
  'changed',
  'bytes_freed',
  'files_modified',
  'issues_found',
  'issues_fixed',
  'summary',
  'reason',
] as const;

export function historyDataset(runs: readonly RunRecord[]): Dataset {
  const rows = [...runs]
    .sort((a, b) => a.id - b.id)
    .map((r): Cell[] => [
      r.id,
      r.task,
      r.host,
      r.status,
      r.trigger,
      r.attempt,
      r.dryRun,
      iso(r.queuedAt),
      iso(r.startedAt),
      iso(r.finishedAt),
      r.durationMs,
      r.exitCode,
      r.result?.changed ?? null,
      r.result?.bytesFreed ?? null,
      r.result?.filesModified ?? null,
      r.result?.issuesFound ?? null,
      r.result?.issuesFixed ?? null,
      r.result?.summary ?? null,
      r.reason,
    ]);
  return { name: 'history', columns: [...HISTORY_COLUMNS], rows };
}

export async function metricsDataset(store: Store, days: number, now: number): Promise<Dataset> {
  const today = Math.floor(now / DAY);
  const m = computeMetrics(await store.dailyStats(today - days + 1), days, today);
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  return {
    name: 'metrics',
    columns: [
      'task',
      'runs',
      'successes',
      'failures',
      'success_rate',
      'avg_ms',
      'p50_ms',
      'p95_ms',
      'max_ms',
      'trend',
    ],
    rows: m.tasks.map((t) => [
      t.task,
      t.runs,
      t.successes,
      t.failures,
      t.successRate === null ? null : Math.round(t.successRate * 10_000) / 10_000,
      round(t.avgMs),
      round(t.p50Ms),
      round(t.p95Ms),
      round(t.maxMs),
      t.trend,
    ]),
  };
}

export const INCIDENT_COLUMNS = [
  'id',
  'key',
  'subject_kind',
  'subject_id',
  'event',
  'level',
  'opened_at',
  'last_seen_at',
  'last_notified_at',
  'closed_at',
  'occurrences',
  'notifications',
  'message',
] as const;

/** Incidents as a table: the same columns whether there are none or many. */
export function incidentsDataset(incidents: readonly IncidentRecord[]): Dataset {
  const rows = [...incidents]
    .sort((a, b) => a.id - b.id)
    .map((i): Cell[] => [
      i.id,
      i.key,
      i.subjectKind,
      i.subjectId,
      i.event,
      i.level,
      iso(i.openedAt),
      iso(i.lastSeenAt),
      iso(i.lastNotifiedAt),
      iso(i.closedAt),
      i.occurrences,
      i.notifications,
      i.message,
    ]);
  return { name: 'incidents', columns: [...INCIDENT_COLUMNS], rows };
}

/** History, metrics and incidents of the last `days` days (for `caretaker export`). */
export async function recordDatasets(store: Store, days: number, now: number): Promise<Dataset[]> {
  const incidents = await store.listIncidents({ since: now - days * DAY, limit: 100_000 });
  return [
    historyDataset(await runsSince(store, now - days * DAY)),
    await metricsDataset(store, days, now),
    incidentsDataset(incidents),
  ];
}

/** The DatasetSource the engine hands to actions. */
export function storeDatasets(store: Store, clock: Clock): DatasetSource {
  return {
    async get(name, { days }) {
      const now = clock.now();
      if (name === 'metrics') return metricsDataset(store, days, now);
      return historyDataset(await runsSince(store, now - days * DAY));
    },
  };
}
