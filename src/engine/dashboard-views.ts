/**
 * Read models the dashboard needs beyond the CLI's: history with the filters a person asks for
 * (status, trigger, host, date range) and paging, a task's configuration with its secrets
 * masked and its next fire times, a day's chart series. Read from the store through its
 * ordinary queries; nothing here writes.
 */
import type { Config, TaskConfig } from '../config/types.js';
import { redactUrl } from '../core/redact-url.js';
import { nextFire } from '../core/schedule.js';
import { redactDeep } from '../notify/redact.js';
import type { DailyStats, RunRecord, RunStatus, RunTrigger, Store } from '../store/types.js';
import { configSecretValues } from './secret-names.js';

export interface HistoryFilter {
  readonly task?: string;
  readonly statuses?: readonly RunStatus[];
  readonly trigger?: RunTrigger;
  readonly host?: string;
  /** Only runs queued at or after this instant. */
  readonly since?: number;
  /** Only runs queued before this instant. */
  readonly until?: number;
  /** Only runs older than this id (the next page). */
  readonly beforeId?: number;
  readonly limit: number;
}

export interface HistoryPage {
  readonly runs: RunRecord[];
  /** The `beforeId` of the next page, or null when this is the last one. */
  readonly nextBeforeId: number | null;
  /** The scan stopped at its cap before the page was full: there may be older matches. */
  readonly truncated: boolean;
}

/** Rows read at most for one page: a filter that matches nothing stops here, not at the end. */
export const HISTORY_SCAN_CAP = 50_000;
const BATCH = 500;

/**
 * One page of runs matching the filter, newest first. Status, host and task go to the store's
 * query; trigger and the date range are applied while paging backwards by id (ids grow with
 * queue time), stopping at the range's start.
 */
export async function filteredHistory(store: Store, f: HistoryFilter): Promise<HistoryPage> {
  const plain = f.trigger === undefined && f.since === undefined && f.until === undefined;
  const base = { task: f.task, statuses: f.statuses, host: f.host };
  if (plain) {
    const runs = await store.listRuns({ ...base, beforeId: f.beforeId, limit: f.limit + 1 });
    const more = runs.length > f.limit;
    const page = runs.slice(0, f.limit);
    return { runs: page, nextBeforeId: more ? page.at(-1)!.id : null, truncated: false };
  }
  const out: RunRecord[] = [];
  let beforeId = f.beforeId;
  let scanned = 0;
  for (;;) {
    const batch = await store.listRuns({ ...base, beforeId, limit: BATCH });
    for (const r of batch) {
      if (f.since !== undefined && r.queuedAt < f.since)
        return { runs: out, nextBeforeId: null, truncated: false };
      if (f.until !== undefined && r.queuedAt >= f.until) continue;
      if (f.trigger !== undefined && r.trigger !== f.trigger) continue;
      if (out.length === f.limit) return { runs: out, nextBeforeId: out.at(-1)!.id, truncated: false };
      out.push(r);
    }
    scanned += batch.length;
    if (batch.length < BATCH) return { runs: out, nextBeforeId: null, truncated: false };
    if (scanned >= HISTORY_SCAN_CAP)
      return { runs: out, nextBeforeId: batch.at(-1)!.id, truncated: out.length < f.limit };
    beforeId = batch.at(-1)!.id;
  }
}

const SECRET_KEY = /(pass(word)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)/i;

/** Option values shown as this when their key names a secret. */
export const MASK = '••••••';

/** A task's options for a page: secret-named keys and URL passwords masked, env values redacted. */
export function maskedOptions(config: Config, task: TaskConfig): unknown {
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'string') {
      if (!key.endsWith('_env') && SECRET_KEY.test(key)) return MASK;
      return /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? redactUrl(v) : v;
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (typeof v === 'object' && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return redactDeep(walk(task.options, ''), configSecretValues(config));
}

/** The next `n` instants the task's schedule fires after `now` (none without a schedule). */
export function nextFires(task: TaskConfig, now: number, n = 5): number[] {
  const out: number[] = [];
  let t = now;
  while (task.schedule && out.length < n) {
    const next = nextFire(task.schedule, t);
    if (next === null) break;
    out.push(next);
    t = next;
  }
  return out;
}

export interface DaySeries {
  /** Day starts (ms, UTC). */
  readonly days: number[];
  readonly successes: number[];
  readonly failures: number[];
  /** Average duration of the day's runs, ms (null on a day without runs). */
  readonly avgMs: (number | null)[];
}

/** Per-day successes, failures and average duration of one task over `days` days to `now`. */
export function daySeries(stats: readonly DailyStats[], days: number, now: number): DaySeries {
  const today = Math.floor(now / 86_400_000);
  const by = new Map(stats.map((s) => [s.day, s]));
  const out = {
    days: [] as number[],
    successes: [] as number[],
    failures: [] as number[],
    avgMs: [] as (number | null)[],
  };
  for (let d = today - days + 1; d <= today; d++) {
    const s = by.get(d);
    out.days.push(d * 86_400_000);
    out.successes.push(s?.successes ?? 0);
    out.failures.push(s?.failures ?? 0);
    out.avgMs.push(s && s.runs > 0 ? Math.round(s.totalMs / s.runs) : null);
  }
  return out;
}
