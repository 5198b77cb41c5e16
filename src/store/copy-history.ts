/**
 * `caretaker store copy`: a host's history copied from its SQLite store into a PostgreSQL store
 * (the fleet's), idempotent and resumable.
 *
 * Runs go over in id order, in batches of one transaction each, and each batch writes the copy
 * mark of its source (the last source id looked at, and the ids still queued or running then) in
 * the same transaction: a copy killed half-way leaves whole batches and the mark that matches
 * them, so running it again copies the rest and nothing twice. Queued and running runs are left
 * out — they belong to the daemon still running them, or to one that crashed, whose next start
 * marks them interrupted — and are copied by a later copy once they have finished.
 *
 * The rollup is not recomputed from the runs (runs pruned from the source still count in its
 * statistics): the source's own rollup is added to the target's, and what was added is recorded
 * (the snapshot, in the same transaction), so a later copy adds only what the source gained
 * since. Task states merge field by field (the later wins); samples, closed incidents with their
 * deliveries, pings and pauses are inserted unless the target has them already.
 */
import type { CopyMark, HistoryExport, HistoryImport, StatsSnapshot } from './copy-roles.js';
import { mergeHistograms } from './duration-histogram.js';
import type { DailyStats, RunRecord, RunTotal } from './types.js';

export interface CopyCounts {
  readonly runs: number;
  readonly taskStates: number;
  /** Rollup rows (task × day) added to. */
  readonly dailyStats: number;
  readonly samples: number;
  readonly incidents: number;
  readonly deliveries: number;
  readonly pings: number;
  /** Paused tasks (a pause the target has already stays). */
  readonly pauses: number;
}

export interface CopyOutcome {
  readonly copied: CopyCounts;
  /** Runs copied by earlier copies of this source. */
  readonly runsCopiedBefore: number;
  /** Queued or running runs left out this time (a later copy takes them once finished). */
  readonly runsLeftOut: number;
  /** Open incidents left out (they are the live state of this host's alerting). */
  readonly incidentsLeftOut: number;
  readonly batches: number;
  readonly ms: number;
}

export interface CopyFaults {
  /** Called after batch `n` (1-based) of runs committed. */
  afterBatch?(n: number): void;
  /** Called inside the transaction of batch `n`, before its commit. */
  inBatch?(n: number): void;
}

export interface CopyOptions {
  /** Runs per transaction. @default 2000 */
  readonly batchSize?: number;
  readonly onBatch?: (copiedSoFar: number) => void;
  readonly faults?: CopyFaults;
  /** A monotonic clock in ms, for the elapsed time. @default performance.now */
  readonly monotonic?: () => number;
}

const FINISHED = (r: RunRecord) => r.status !== 'queued' && r.status !== 'running';
const SAMPLE_CHUNK = 10_000;
const HUGE = 1_000_000_000;

/** What the source's rollup gained since `before` (rows it no longer has are left alone). */
export function statsDelta(now: readonly DailyStats[], before: StatsSnapshot | undefined): DailyStats[] {
  const old = new Map((before ?? []).map((d) => [`${d.task}\u0000${d.day}`, d]));
  const out: DailyStats[] = [];
  for (const d of now) {
    const o = old.get(`${d.task}\u0000${d.day}`);
    if (!o) {
      out.push(d);
      continue;
    }
    const histogram: Record<string, number> = {};
    for (const [k, v] of Object.entries(d.histogram)) {
      const gained = v - (o.histogram[k] ?? 0);
      if (gained > 0) histogram[k] = gained;
    }
    const runs = Math.max(0, d.runs - o.runs);
    if (runs === 0 && Object.keys(histogram).length === 0) continue;
    out.push({
      task: d.task,
      day: d.day,
      runs,
      successes: Math.max(0, d.successes - o.successes),
      failures: Math.max(0, d.failures - o.failures),
      totalMs: Math.max(0, d.totalMs - o.totalMs),
      maxMs: d.maxMs,
      histogram,
    });
  }
  return out;
}

/** The snapshot after adding `now`: every row the source has, plus the ones it pruned since. */
const totalKey = (t: RunTotal) => `${t.task}\u0000${t.host}\u0000${t.status}`;

/** What each (task, host, status) of the source's lifetime totals gained since `before`. */
export function totalsDelta(now: readonly RunTotal[], before: readonly RunTotal[] | undefined): RunTotal[] {
  const old = new Map((before ?? []).map((t) => [totalKey(t), t]));
  const out: RunTotal[] = [];
  for (const t of now) {
    const o = old.get(totalKey(t));
    const durations: Record<string, number> = {};
    for (const [k, v] of Object.entries(t.durations)) {
      const gained = v - (o?.durations[k] ?? 0);
      if (gained > 0) durations[k] = gained;
    }
    const runs = Math.max(0, t.runs - (o?.runs ?? 0));
    if (runs === 0) continue;
    out.push({
      ...t,
      runs,
      missed: Math.max(0, t.missed - (o?.missed ?? 0)),
      totalMs: Math.max(0, t.totalMs - (o?.totalMs ?? 0)),
      durations,
    });
  }
  return out;
}

function nextSnapshot(now: readonly DailyStats[], before: StatsSnapshot | undefined): DailyStats[] {
  const rows = new Map((before ?? []).map((d) => [`${d.task}\u0000${d.day}`, d]));
  for (const d of now) {
    const hist: Record<string, number> = {};
    mergeHistograms(hist, d.histogram);
    rows.set(`${d.task}\u0000${d.day}`, { ...d, histogram: hist });
  }
  return [...rows.values()];
}

async function copyRuns(
  source: HistoryExport,
  target: HistoryImport,
  key: string,
  o: CopyOptions,
): Promise<{ copied: number; before: number; leftOut: number; batches: number }> {
  const size = o.batchSize ?? 2000;
  const start = await target.copyMark(key);
  let mark: CopyMark = start ?? { after: 0, pending: [], copied: 0 };
  let copied = 0;
  let batches = 0;
  const commit = async (runs: RunRecord[], next: CopyMark) => {
    batches++;
    const n = batches;
    const inBatch = o.faults?.inBatch;
    copied += await target.importRuns(key, runs, next, inBatch && (() => inBatch(n)));
    mark = next;
    o.onBatch?.(copied);
    o.faults?.afterBatch?.(n);
  };
  // Those still queued or running at the last copy, first: the finished ones go now.
  if (mark.pending.length > 0) {
    const done: RunRecord[] = [];
    const still: number[] = [];
    for (const id of mark.pending) {
      const r = await source.getRun(id);
      if (r === undefined) continue; // pruned since: nothing to copy
      if (FINISHED(r)) done.push(r);
      else still.push(id);
    }
    if (done.length > 0 || still.length !== mark.pending.length)
      await commit(done, { after: mark.after, pending: still, copied: mark.copied + done.length });
  }
  for (;;) {
    const page = await source.runsAfter(mark.after, size);
    if (page.length === 0) break;
    const finished = page.filter(FINISHED);
    const pending = [...mark.pending, ...page.filter((r) => !FINISHED(r)).map((r) => r.id)];
    await commit(finished, {
      after: page[page.length - 1]!.id,
      pending,
      copied: mark.copied + finished.length,
    });
    if (page.length < size) break;
  }
  return { copied, before: start?.copied ?? 0, leftOut: mark.pending.length, batches };
}

/** Copies the history of `source` into `target` (see the file's comment); what it copied. */
export async function copyHistory(
  source: HistoryExport,
  target: HistoryImport,
  o: CopyOptions = {},
): Promise<CopyOutcome> {
  const now = o.monotonic ?? (() => performance.now());
  const t0 = now();
  const key = await source.sourceId();
  const runs = await copyRuns(source, target, key, o);

  // After the runs: a task state's last run is found among them by its finish.
  const taskStates = await target.mergeTaskStates(await source.allTaskStates());

  const stats = await source.dailyStats(0);
  const before = await target.statsSnapshot(key);
  const dailyStats = await target.mergeStats(key, statsDelta(stats, before), nextSnapshot(stats, before));

  // The lifetime totals (the Prometheus counters) as the rollup: what the source gained since.
  const totals = await source.runTotals();
  const totalsBefore = await target.totalsSnapshot(key);
  await target.mergeTotals(key, totalsDelta(totals, totalsBefore), totals);

  let samples = 0;
  for (const k of await source.sampleKeys()) {
    const points = await source.sampleSeries(k.task, k.key, 0);
    for (let i = 0; i < points.length; i += SAMPLE_CHUNK)
      samples += await target.importSamples(k, points.slice(i, i + SAMPLE_CHUNK));
  }

  let incidents = 0;
  let deliveries = 0;
  for (const inc of (await source.listIncidents({ open: false, limit: HUGE })).reverse()) {
    const ds = (await source.listDeliveries({ incidentId: inc.id, limit: HUGE })).reverse();
    if (await target.importIncident(inc, ds)) {
      incidents++;
      deliveries += ds.length;
    }
  }
  const incidentsLeftOut = (await source.listIncidents({ open: true, limit: HUGE })).length;
  const pings = await target.importPings(await source.allPings());
  let pauses = 0;
  for (const p of await source.listPauses()) if ((await target.pauseTask(p.task, p)).paused) pauses++;

  return {
    copied: { runs: runs.copied, taskStates, dailyStats, samples, incidents, deliveries, pings, pauses },
    runsCopiedBefore: runs.before,
    runsLeftOut: runs.leftOut,
    incidentsLeftOut,
    batches: runs.batches,
    ms: now() - t0,
  };
}

/**
 * The test hook of a copy killed half-way, set through the environment of a real process:
 * `CARETAKER_TEST_COPY_KILL=after:N` kills the process (SIGKILL, as `kill -9`) once batch N
 * committed, `in:N` inside batch N's transaction before its commit. Unset: no faults.
 */
export function copyFaultsFromEnv(env: NodeJS.ProcessEnv = process.env): CopyFaults | undefined {
  const m = /^(after|in):(\d+)$/.exec(env.CARETAKER_TEST_COPY_KILL ?? '');
  if (!m) return undefined;
  const at = Number(m[2]);
  const kill = (n: number) => {
    if (n === at) process.kill(process.pid, 'SIGKILL');
  };
  return m[1] === 'after' ? { afterBatch: kill } : { inBatch: kill };
}
