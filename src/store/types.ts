/**
 * The Store: the only way the rest of caretaker reads or writes history, as role interfaces
 * (runs, stats, samples, alerts, meta) and their sum. SQLite is the default implementation;
 * every implementation passes the same conformance suites (test/store/conformance/).
 */
import type { ActionResult } from '../core/action-result.js';

export const RUN_STATUSES = [
  'queued',
  'running',
  'success',
  'warning',
  'failed',
  'timeout',
  'cancelled',
  'skipped',
  'interrupted',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type FinalStatus = Exclude<RunStatus, 'queued' | 'running'>;

/** Statuses that count as a successful execution in metrics and task state. */
export const SUCCESS_STATUSES: readonly RunStatus[] = ['success', 'warning'];
/** Statuses that count as a failed execution. */
export const FAILURE_STATUSES: readonly RunStatus[] = ['failed', 'timeout', 'interrupted'];

/**
 * What started a run. `rollback` rows record `caretaker rollback` in a task's history; they are
 * not executions of the task, so they never touch its state, success rate or daily statistics.
 */
export type RunTrigger = 'schedule' | 'catch-up' | 'manual' | 'retry' | 'rollback' | 'restore';

/**
 * Rows that record something done to a task's files by hand (`caretaker rollback`, `caretaker
 * backup restore`) rather than an execution of the task: never its state, success rate or stats.
 */
export const RECORD_ONLY_TRIGGERS: readonly RunTrigger[] = ['rollback', 'restore'];

export function isExecution(trigger: RunTrigger): boolean {
  return !RECORD_ONLY_TRIGGERS.includes(trigger);
}

export interface RunRecord {
  readonly id: number;
  readonly task: string;
  readonly host: string;
  readonly trigger: RunTrigger;
  /** The schedule's fire instant this run belongs to (its cycle); null for manual runs. */
  readonly scheduledFor: number | null;
  /** Earliest start (retry backoff, window, jitter). */
  readonly notBefore: number | null;
  readonly queuedAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly status: RunStatus;
  readonly attempt: number;
  readonly exitCode: number | null;
  readonly durationMs: number | null;
  readonly outputTail: string | null;
  readonly result: ActionResult | null;
  /** Why a run was skipped, cancelled, interrupted or failed outside the action. */
  readonly reason: string | null;
  readonly dryRun: boolean;
  /** The process that ran (or holds) this run. */
  readonly pid: number | null;
  /** The process group the run started (a command), and its start time, to end an orphan. */
  readonly childPgid: number | null;
  readonly childStarted: string | null;
}

export interface NewRun {
  readonly task: string;
  readonly host: string;
  readonly trigger: RunTrigger;
  readonly scheduledFor: number | null;
  readonly notBefore: number | null;
  readonly queuedAt: number;
  readonly status: 'queued' | 'running' | 'skipped';
  readonly attempt: number;
  readonly dryRun: boolean;
  readonly pid: number | null;
  readonly startedAt?: number | null;
  readonly reason?: string | null;
  /** Record `scheduledFor` as the task's latest claimed fire, in the same transaction. */
  readonly claimFire?: boolean;
}

export interface RunFinish {
  readonly status: FinalStatus;
  readonly finishedAt: number;
  readonly startedAt?: number | null;
  readonly exitCode?: number | null;
  readonly durationMs?: number | null;
  readonly outputTail?: string | null;
  readonly result?: ActionResult | null;
  readonly reason?: string | null;
  /** A skip that stands for scheduled runs missed (counted in RunTotal.missed). */
  readonly missed?: boolean;
}

export interface TaskState {
  readonly task: string;
  /** The latest schedule fire instant already turned into a run (or a skip). */
  readonly lastFire: number | null;
  readonly lastStartedAt: number | null;
  readonly lastFinishedAt: number | null;
  readonly lastStatus: RunStatus | null;
  readonly lastRunId: number | null;
  readonly lastSuccessAt: number | null;
  readonly lastFailureAt: number | null;
  readonly consecutiveFailures: number;
}

export interface DailyStats {
  readonly task: string;
  /** Days since the Unix epoch (UTC). */
  readonly day: number;
  readonly runs: number;
  readonly successes: number;
  readonly failures: number;
  readonly totalMs: number;
  readonly maxMs: number;
  /** Log-bucketed durations: bucket index → count (see store/duration-histogram.ts). */
  readonly histogram: Readonly<Record<string, number>>;
}

/** One counted execution (what the daily rollup counts), with its host: see StatsStore.runFigures. */
export interface RunFigure {
  readonly task: string;
  readonly host: string;
  readonly finishedAt: number;
  readonly status: RunStatus;
  readonly durationMs: number | null;
}

/**
 * Lifetime counts of the finished executions (not dry runs or records) of one task on one host
 * with one final status: never pruned, so they are counters (Prometheus `_total`) that only go up
 * across restarts, prunes and hosts. Durations in the fixed buckets of TOTAL_BUCKETS_MS.
 */
export interface RunTotal {
  readonly task: string;
  readonly host: string;
  readonly status: FinalStatus;
  readonly runs: number;
  /** Of these, skips that stood for missed scheduled runs. */
  readonly missed: number;
  readonly totalMs: number;
  /** Bucket index (store/duration-histogram.ts totalBucketOf) → count, not cumulative. */
  readonly durations: Readonly<Record<string, number>>;
}

export interface RecentRuns {
  readonly runs: number;
  readonly successes: number;
  readonly medianDurationMs: number | null;
}

/**
 * A run as a list of many tasks' runs needs it (the overview's sparklines): its status and
 * duration only. Each column costs (6,000 rows of 8 columns take twice as long to read as of 4).
 */
export interface RunBrief {
  readonly id: number;
  readonly task: string;
  readonly status: RunStatus;
  /** Null while it runs. */
  readonly durationMs: number | null;
}

/** The last `limit` runs of each of `tasks` (of one host, when `host` is set). */
export interface LastRunsQuery {
  readonly tasks: readonly string[];
  readonly limit: number;
  readonly host?: string;
}

export interface RunQuery {
  readonly task?: string;
  readonly limit: number;
  /** Only runs with an id below this (paging backwards). */
  readonly beforeId?: number;
  readonly statuses?: readonly RunStatus[];
  readonly host?: string;
}

import type { SampleInput, SamplePoint } from '../core/sample.js';

export type { SampleInput, SamplePoint };

export interface SampleKey {
  readonly task: string;
  readonly key: string;
  readonly unit: string | null;
  readonly better: 'lower' | 'higher' | null;
  readonly lastAt: number | null;
  readonly lastValue: number | null;
}

export interface IncidentRecord {
  /** 0 for one not stored yet. */
  readonly id: number;
  readonly key: string;
  readonly subjectKind: 'task' | 'watch' | 'daemon';
  readonly subjectId: string;
  readonly event: string;
  readonly level: 'warn' | 'fail';
  readonly openedAt: number;
  readonly lastSeenAt: number;
  readonly lastNotifiedAt: number | null;
  readonly occurrences: number;
  readonly notifications: number;
  readonly message: string;
  readonly oneShot: boolean;
  readonly closedAt: number | null;
}

export type DeliveryStatus = 'sending' | 'sent' | 'failed' | 'held' | 'dropped';

export interface DeliveryRecord {
  readonly id: number;
  readonly incidentId: number | null;
  readonly channel: string;
  readonly event: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  /** Why it failed or was dropped (secrets redacted). */
  readonly error: string | null;
  /** The alert as JSON, kept while held for quiet hours. */
  readonly payload: string | null;
}

export interface PingRecord {
  readonly name: string;
  readonly at: number;
  readonly ok: boolean;
  /** cli, api, … */
  readonly source: string | null;
  readonly message: string | null;
}

export interface PruneOptions {
  readonly now: number;
  /** Runs, statistics, samples and closed alerts older than this many days go. */
  readonly keepDays: number;
  /** Finished runs beyond this many per task go (statistics keep counting them). */
  readonly keepRunsPerTask: number;
}

export interface PruneResult {
  readonly runsDeleted: number;
  /** Daily statistics rows (task × day). */
  readonly statsDeleted: number;
  /** Samples, closed incidents, deliveries and pings past `keepDays`. */
  readonly samplesDeleted?: number;
  /** Cluster claims no longer held, of slots past `keepDays`. */
  readonly claimsDeleted?: number;
}

// ---- roles ----------------------------------------------------------------------------------
// A store is the sum of these roles. Code that needs one takes only that one (a dead-man watch
// takes AlertsStore), and a new store (PostgreSQL) passes one role's conformance suite at a time.

/** Runs, the per-task state they update, and fire claims (test/store/conformance/runs.ts). */
export interface RunsStore {
  insertRun(run: NewRun): Promise<RunRecord>;
  startRun(id: number, startedAt: number, pid: number): Promise<void>;
  /** Finishes a run; an execution (not a dry run or rollback) also updates task state and stats. */
  finishRun(id: number, finish: RunFinish): Promise<RunRecord>;
  /** Records the process group a running run started (see RunRecord.childPgid). */
  setChildProcess(id: number, pgid: number, started: string | null): Promise<void>;
  /** Moves a queued run's earliest start (retry backoff and the like). */
  setNotBefore(id: number, notBefore: number): Promise<void>;
  getRun(id: number): Promise<RunRecord | undefined>;
  listRuns(query: RunQuery): Promise<RunRecord[]>;
  /** Queued and running runs of a host, oldest first. */
  activeRuns(host: string): Promise<RunRecord[]>;
  taskStates(host: string): Promise<Map<string, TaskState>>;
  /** Marks the fire instant as claimed without a run (a fire that was deliberately dropped). */
  claimFire(task: string, host: string, fire: number): Promise<void>;
  recentRuns(task: string, limit: number): Promise<RecentRuns>;
  /**
   * The last `limit` runs of every task asked for, newest first within each task, in one
   * statement (one index range per task): the overview's sparklines, not one query per task.
   */
  lastRunsOfTasks(query: LastRunsQuery): Promise<Map<string, RunBrief[]>>;
  /**
   * Deletes finished runs that finished before `before`, and beyond `keepRunsPerTask` per task;
   * never a queued or running one. Returns how many went.
   */
  pruneRuns(opts: { readonly before: number; readonly keepRunsPerTask: number }): Promise<number>;
}

/** The daily rollup that finishRun feeds: metrics over any span without reading every run. */
export interface StatsStore {
  dailyStats(sinceDay: number, task?: string): Promise<DailyStats[]>;
  /** Deletes the rollup of days before `beforeDay` (days since the epoch). */
  pruneStats(beforeDay: number): Promise<number>;
  /**
   * The executions the rollup counts (not dry runs or records; a success or a failure) that
   * finished at or after `since`, with their host. The rollup has no host column: figures per
   * host come from the runs still kept (see report/host-metrics.ts).
   */
  runFigures(since: number): Promise<RunFigure[]>;
  /** The lifetime totals (never pruned) of one host, or of every host. */
  runTotals(host?: string): Promise<RunTotal[]>;
}

export interface SamplesStore {
  /** Records measured values of a run (a compact table: key id, instant, value). */
  recordSamples(task: string, at: number, samples: readonly SampleInput[]): Promise<void>;
  /** One key's values since `since`, oldest first. */
  sampleSeries(task: string, key: string, since: number): Promise<SamplePoint[]>;
  sampleKeys(task?: string): Promise<SampleKey[]>;
  pruneSamples(before: number): Promise<number>;
}

/** Incidents, their deliveries, and dead-man pings. */
export interface AlertsStore {
  /** The open incident of this key, if any. */
  openIncident(key: string): Promise<IncidentRecord | undefined>;
  /** Inserts (id 0) or updates an incident; returns it with its id. */
  saveIncident(incident: IncidentRecord): Promise<IncidentRecord>;
  listIncidents(q: { open?: boolean; since?: number; limit: number }): Promise<IncidentRecord[]>;
  insertDelivery(d: Omit<DeliveryRecord, 'id'>): Promise<number>;
  updateDelivery(
    id: number,
    patch: Pick<DeliveryRecord, 'status' | 'attempts' | 'finishedAt' | 'error'> & { payload?: string | null },
  ): Promise<void>;
  listDeliveries(q: {
    status?: DeliveryStatus;
    incidentId?: number;
    since?: number;
    limit: number;
  }): Promise<DeliveryRecord[]>;
  /** Was this incident ever delivered (sent) to this channel? */
  wasDelivered(incidentId: number, channel: string): Promise<boolean>;
  recordPing(ping: PingRecord): Promise<void>;
  /** The latest ping of every name. */
  lastPings(): Promise<Map<string, PingRecord>>;
  /**
   * Deletes closed incidents, finished deliveries and pings from before `before`; the newest ping
   * of each name stays (a watch still knows when it was last seen).
   */
  pruneAlerts(before: number): Promise<number>;
}

export interface MetaStore {
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
}

/** A task kept from starting by a person (`caretaker pause`), until `caretaker resume`. */
export interface PauseRecord {
  readonly task: string;
  /** Who paused it: a Unix user, or (through the API) whoever the caller says. */
  readonly by: string;
  readonly reason: string | null;
  /** When it was paused (ms since the epoch). */
  readonly at: number;
}

/**
 * Paused tasks (test/store/conformance/pauses.ts). One row per task id, not per host: on a
 * fleet's shared store a pause holds on every host.
 */
export interface PausesStore {
  /**
   * Pauses the task. A task already paused keeps its first pause (who, why, since when):
   * `paused: false` and that record.
   */
  pauseTask(
    task: string,
    pause: { readonly by: string; readonly reason: string | null; readonly at: number },
  ): Promise<{ readonly paused: boolean; readonly record: PauseRecord }>;
  /** Ends the task's pause; returns the pause that ended, or undefined when it was not paused. */
  resumeTask(task: string): Promise<PauseRecord | undefined>;
  /** Every paused task, by task id. */
  listPauses(): Promise<PauseRecord[]>;
}

/**
 * A condition on starting a run, judged fleet-wide under a lock of `key`: fewer than `cap` runs
 * of `tasks` are running on other hosts than `host`, plus `local` on this one.
 */
export interface StartGuard {
  /** Starts guarded by one key are decided one at a time across the fleet. */
  readonly key: string;
  readonly tasks: readonly string[];
  readonly cap: number;
  readonly host: string;
  readonly local: number;
}

/** One scheduled fire of a cluster task: the unit a host claims. */
export interface SlotKey {
  readonly task: string;
  readonly slot: number;
}

/** A daemon as the fleet sees it (one row per host name). */
export interface HostRecord {
  readonly name: string;
  /** A random id of the daemon process holding the name: a restart is a new instance. */
  readonly instance: string;
  readonly version: string;
  readonly pid: number;
  readonly startedAt: number;
  /** Its latest heartbeat. */
  readonly lastSeenAt: number;
  /** Silent past lastSeenAt + leaseMs, the host is lost. */
  readonly leaseMs: number;
  /** The task ids of its configuration. */
  readonly tasks: readonly string[];
  /** Set when the daemon stopped cleanly (unregisterHost); null while it runs or after a crash. */
  readonly stoppedAt: number | null;
}

export interface HostRegistration {
  readonly name: string;
  readonly instance: string;
  readonly version: string;
  readonly pid: number;
  readonly tasks: readonly string[];
  readonly leaseMs: number;
  readonly now: number;
}

export type ClaimState = 'held' | 'done' | 'skipped';

/** Who runs one slot (a scheduled fire instant) of a `scope: cluster` task. */
export interface ClaimRecord {
  readonly task: string;
  /** The fire instant (ms since the epoch). */
  readonly slot: number;
  readonly host: string;
  readonly instance: string;
  /** The run executing the slot, once recorded. */
  readonly runId: number | null;
  readonly claimedAt: number;
  /** The holder must renew before this instant (with its heartbeat) or lose the slot. */
  readonly leaseUntil: number;
  readonly state: ClaimState;
  /** How many times the slot was taken over from a host that stopped heartbeating. */
  readonly takeovers: number;
  /** Why the slot was skipped, or from whom it was taken over. */
  readonly reason: string | null;
}

/**
 * Fleet coordination (test/store/conformance/fleet.ts): hosts and their heartbeats, and the
 * claims that make a cluster task's slot run on one host. Every decision is one statement or
 * one transaction, so concurrent hosts agree without a protocol of our own.
 */
export interface FleetStore {
  /**
   * Registers a daemon under its host name. Refused (the current holder returned) while another
   * instance holds the name and is not lost (its lastSeenAt + leaseMs is after `now`) and has not
   * stopped; otherwise the row is taken over by this instance.
   */
  registerHost(
    reg: HostRegistration,
  ): Promise<{ readonly ok: true } | { readonly ok: false; readonly holder: HostRecord }>;
  /**
   * The host's heartbeat: moves its lastSeenAt and renews the lease of every claim it holds to
   * now + leaseMs, in one transaction. `registered: false` when the name is now held by another
   * instance; `lost` lists this instance's claims taken over by another host since (the runs it
   * must stop: fencing).
   */
  heartbeat(
    name: string,
    instance: string,
    now: number,
  ): Promise<{ readonly registered: boolean; readonly lost: readonly ClaimRecord[] }>;
  /** A clean stop: stoppedAt set; its held claims stay (their runs were ended by the stop). */
  unregisterHost(name: string, instance: string, now: number): Promise<void>;
  listHosts(): Promise<HostRecord[]>;
  /**
   * Claims a slot for this host: inserted as held with leaseUntil now + leaseMs unless a claim of
   * (task, slot) exists — then undefined, whoever holds it and in whatever state.
   */
  claimSlot(c: {
    readonly task: string;
    readonly slot: number;
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
  }): Promise<ClaimRecord | undefined>;
  /**
   * Claims many slots in one statement (the cluster fires due in one scheduling pass), as
   * claimSlot does each, in (task, slot) order so that hosts claiming overlapping sets never
   * deadlock. Returns the slots won. For each task, the latest of its slots that another host
   * had claimed is recorded as this host's latest fire (claimFire), in the same statement: a
   * host never owes a catch-up for a slot another host took.
   */
  claimSlots(c: {
    readonly slots: readonly SlotKey[];
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
  }): Promise<SlotKey[]>;
  /**
   * A restarted daemon takes back the claims its host name still holds under an earlier
   * instance (one that crashed; registerHost succeeded, so it is gone): they become this
   * instance's, renewed to now + leaseMs. Claims another host took over are not touched. The
   * earlier instance may instead be alive but cut off past its lease: its heartbeat then lists
   * them as lost, like claims taken over, so it stops their runs.
   */
  adoptClaims(host: string, instance: string, now: number, leaseMs: number): Promise<ClaimRecord[]>;
  /** Records the run that executes a held claim of this instance. */
  attachRun(task: string, slot: number, instance: string, runId: number): Promise<void>;
  /** Ends this instance's held claim as done (the run finished) or skipped (with the reason). */
  releaseSlot(
    task: string,
    slot: number,
    instance: string,
    outcome: { readonly state: 'done' | 'skipped'; readonly reason?: string | null },
  ): Promise<void>;
  /** Held claims whose lease ended before `now`, oldest first. */
  expiredClaims(now: number): Promise<ClaimRecord[]>;
  /**
   * The fleet member's every-second look, in one statement: the expired claims (as
   * expiredClaims) and, of the slots `asked` about (the ones this host let its first candidates
   * claim), those that no host has claimed.
   */
  scanClaims(
    now: number,
    asked: readonly SlotKey[],
  ): Promise<{ readonly expired: ClaimRecord[]; readonly unclaimed: SlotKey[] }>;
  /**
   * Takes over an expired held claim: only if it is still held by `fromInstance` with its lease
   * ended before `now` (one of many hosts trying wins); takeovers + 1, reason set, runId cleared.
   * With `skip`, the claim is ended as skipped instead of held by the caller. Undefined when
   * another host was first or the holder renewed.
   */
  takeOver(t: {
    readonly task: string;
    readonly slot: number;
    readonly fromInstance: string;
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
    readonly reason: string;
    readonly skip?: boolean;
  }): Promise<ClaimRecord | undefined>;
  getClaim(task: string, slot: number): Promise<ClaimRecord | undefined>;
  /**
   * Deletes claims that are not held with a slot before `before`, and hosts not heard from
   * since (a host retired long ago leaves `caretaker hosts`); returns how many claims went.
   */
  pruneClaims(before: number): Promise<number>;
  /**
   * Records a queued run as started only if every guard holds, decided under the guards' locks
   * so two hosts never both start past a cap (a cluster task's one run at a time, a group's cap
   * fleet-wide). False: not started, still queued. A host's own store (SQLite) has no other
   * hosts: it starts the run.
   */
  startRunGuarded(
    id: number,
    startedAt: number,
    pid: number,
    guards: readonly StartGuard[],
  ): Promise<boolean>;
  /** The store's own clock (PostgreSQL's), to tell a host whose clock is off (leases use host clocks). */
  storeTime(): Promise<number>;
}

import type { TokenRole } from '../core/access-roles.js';

export { TOKEN_ROLES, type TokenRole } from '../core/access-roles.js';

/** An API token as stored: its SHA-256, never the token itself. */
export interface TokenRecord {
  /** Unique, also after revocation (the audit names actors by it). */
  readonly name: string;
  readonly role: TokenRole;
  /** SHA-256 of the token, lowercase hex. */
  readonly hash: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
  /** The tasks (and watches) an operator token may act on; null for all. */
  readonly tasks: readonly string[] | null;
}

export type NewToken = Omit<TokenRecord, 'lastUsedAt' | 'revokedAt'>;

export type AuditOutcome = 'ok' | 'refused' | 'failed';

/** One row of the append-only audit log: a change someone made, or a request refused. */
export interface AuditRecord {
  readonly id: number;
  readonly at: number;
  /** A token's name, `unix:USER` (the control socket, the CLI), or `env:NAME` (the legacy token). */
  readonly actor: string;
  /** The client address, `socket` or `cli`. */
  readonly source: string;
  /** e.g. `run`, `cancel`, `reload`, `token.create`. */
  readonly action: string;
  /** The task, run, token… acted on; null when the action has none. */
  readonly target: string | null;
  readonly outcome: AuditOutcome;
  /** Why it was refused or failed, or a short note. */
  readonly detail: string | null;
}

/**
 * API tokens and the audit log (test/store/conformance/access.ts). The audit is append-only:
 * nothing updates or deletes its rows, the history prune included.
 */
export interface AccessStore {
  /** Stores a new token; TokenExistsError when one of that name exists (revoked or not). */
  insertToken(token: NewToken): Promise<TokenRecord>;
  /** Every token, revoked and expired ones too, by name. */
  listTokens(): Promise<TokenRecord[]>;
  /** The token whose hash this is, if any (revoked and expired ones too: the caller judges). */
  tokenByHash(hash: string): Promise<TokenRecord | undefined>;
  /** Records a use of the token. */
  touchToken(name: string, at: number): Promise<void>;
  /**
   * Revokes a token (at `at`, or keeps an earlier revocation's instant); the record after, or
   * undefined when no token has that name.
   */
  revokeToken(name: string, at: number): Promise<TokenRecord | undefined>;
  appendAudit(entry: Omit<AuditRecord, 'id'>): Promise<AuditRecord>;
  /** Newest first. */
  listAudit(q: { readonly since?: number; readonly limit: number }): Promise<AuditRecord[]>;
}

/**
 * The whole store: every role, plus what concerns the store as one thing. Writes that fail
 * because the disk is full throw StoreFullError (store/store-full-error.ts).
 */
export interface Store
  extends RunsStore, StatsStore, SamplesStore, AlertsStore, MetaStore, PausesStore, FleetStore, AccessStore {
  readonly kind: string;
  /** Each role's prune, at one day-aligned cutoff (see store/prune.ts). */
  prune(opts: PruneOptions): Promise<PruneResult>;
  /**
   * Called by the engine when nothing is due for a while: deferred housekeeping that must not
   * delay a run (SQLite: checkpoint the write-ahead log, which fsyncs).
   */
  housekeep?(): Promise<void>;
  close(): Promise<void>;
}
