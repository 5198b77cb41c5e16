/**
 * The two sides of `caretaker store copy` (store/copy-history.ts): a history read in order from
 * one store (SQLite), and written, batch by batch, into another (PostgreSQL) together with the
 * mark that makes the copy idempotent and resumable. Roles of their own, beside the Store's, so a
 * store that is never a source or a target of a copy need not have them.
 */
import type {
  DailyStats,
  DeliveryRecord,
  IncidentRecord,
  PauseRecord,
  PingRecord,
  RunRecord,
  RunTotal,
  SampleKey,
  SamplePoint,
  TaskState,
} from './types.js';

export interface HostTaskState extends TaskState {
  readonly host: string;
}

/** Reads a whole history for copying it elsewhere (test/cli/store-copy.test.ts). */
export interface HistoryExport {
  /**
   * A random id of this database, made on first call and kept in its meta: a file deleted and
   * created again is another source (its run ids start over), not the rest of the old one.
   */
  sourceId(): Promise<string>;
  /** Runs of any status with an id above `afterId`, oldest first. */
  runsAfter(afterId: number, limit: number): Promise<RunRecord[]>;
  getRun(id: number): Promise<RunRecord | undefined>;
  /** The state of every task on every host this database has seen. */
  allTaskStates(): Promise<HostTaskState[]>;
  dailyStats(sinceDay: number): Promise<DailyStats[]>;
  /** The lifetime totals of every host this database has seen. */
  runTotals(): Promise<RunTotal[]>;
  sampleKeys(): Promise<SampleKey[]>;
  sampleSeries(task: string, key: string, since: number): Promise<SamplePoint[]>;
  listIncidents(q: { open?: boolean; limit: number }): Promise<IncidentRecord[]>;
  listDeliveries(q: { incidentId?: number; limit: number }): Promise<DeliveryRecord[]>;
  /** Every ping kept, oldest first. */
  allPings(): Promise<PingRecord[]>;
  /** Every paused task. */
  listPauses(): Promise<PauseRecord[]>;
}

/** How far the runs of one source have been copied into a target (kept in the target's meta). */
export interface CopyMark {
  /** Every run of the source with an id up to this one was looked at. */
  readonly after: number;
  /** Source ids at or below `after` that were queued or running then: copied once finished. */
  readonly pending: readonly number[];
  /** Runs copied so far, over every copy. */
  readonly copied: number;
}

/** One (task, day) row of a source's rollup as it was last added to a target. */
export type StatsSnapshot = readonly DailyStats[];

/** Writes a copied history; each method is one transaction of the target. */
export interface HistoryImport {
  copyMark(source: string): Promise<CopyMark | undefined>;
  /**
   * Inserts finished runs as they were recorded (timestamps, status, output, result; new ids),
   * without touching task state or the rollup (the source's rollup is merged on its own), and
   * records `mark`, in one transaction: a batch is copied and marked, or neither. `beforeCommit`
   * is a fault hook for tests (called inside the transaction).
   */
  importRuns(
    source: string,
    runs: readonly RunRecord[],
    mark: CopyMark,
    beforeCommit?: () => void,
  ): Promise<number>;
  statsSnapshot(source: string): Promise<StatsSnapshot | undefined>;
  /**
   * Adds `delta` (what the source's rollup gained since `statsSnapshot`) to the rollup and
   * records `snapshot` as what was added, in one transaction: each source counts exactly once.
   */
  mergeStats(source: string, delta: readonly DailyStats[], snapshot: StatsSnapshot): Promise<number>;
  /** The source's lifetime totals as they were last added (see mergeStats). */
  totalsSnapshot(source: string): Promise<readonly RunTotal[] | undefined>;
  /** Adds `delta` to the lifetime totals and records `snapshot`, in one transaction. */
  mergeTotals(source: string, delta: readonly RunTotal[], snapshot: readonly RunTotal[]): Promise<number>;
  /**
   * Merges task states: each field keeps the later of the two (the newest finish brings its
   * status, run and failure streak). Returns how many rows changed.
   */
  mergeTaskStates(states: readonly HostTaskState[]): Promise<number>;
  /** Inserts the points a series does not have yet; returns how many. */
  importSamples(key: SampleKey, points: readonly SamplePoint[]): Promise<number>;
  /**
   * Inserts a closed incident with its deliveries unless the target has one of the same key
   * opened at the same instant; true when inserted.
   */
  importIncident(incident: IncidentRecord, deliveries: readonly DeliveryRecord[]): Promise<boolean>;
  /** Inserts the pings the target does not have (same name, instant and outcome); how many. */
  importPings(pings: readonly PingRecord[]): Promise<number>;
  /**
   * Pauses a task unless it is paused already (the target's pause stays): see PausesStore. A
   * paused host's task stays paused in the fleet, on every host.
   */
  pauseTask(
    task: string,
    pause: { readonly by: string; readonly reason: string | null; readonly at: number },
  ): Promise<{ readonly paused: boolean }>;
}

const EXPORT_METHODS = ['sourceId', 'runsAfter', 'allTaskStates', 'allPings'] as const;
const IMPORT_METHODS = ['copyMark', 'importRuns', 'mergeStats', 'mergeTaskStates'] as const;

export function isHistoryExport(store: object): store is HistoryExport {
  return EXPORT_METHODS.every((m) => typeof (store as Record<string, unknown>)[m] === 'function');
}

export function isHistoryImport(store: object): store is HistoryImport {
  return IMPORT_METHODS.every((m) => typeof (store as Record<string, unknown>)[m] === 'function');
}
