/** A `runs` row as SQLite returns it, and the RunRecord it stands for. */
import type { ActionResult } from '../../core/action-result.js';
import type { RunRecord, RunStatus, TaskState } from '../types.js';

export interface RunRow {
  id: number;
  task: string;
  host: string;
  trigger: string;
  scheduled_for: number | null;
  not_before: number | null;
  queued_at: number;
  started_at: number | null;
  finished_at: number | null;
  status: string;
  attempt: number;
  exit_code: number | null;
  duration_ms: number | null;
  output_tail: string | null;
  result_json: string | null;
  reason: string | null;
  dry_run: number;
  pid: number | null;
  /** Absent on a database of schema 1 opened read-only. */
  child_pgid?: number | null;
  child_started?: string | null;
}

export function toRunRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    task: r.task,
    host: r.host,
    trigger: r.trigger as RunRecord['trigger'],
    scheduledFor: r.scheduled_for,
    notBefore: r.not_before,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    status: r.status as RunStatus,
    attempt: r.attempt,
    exitCode: r.exit_code,
    durationMs: r.duration_ms,
    outputTail: r.output_tail,
    result: r.result_json === null ? null : (JSON.parse(r.result_json) as ActionResult),
    reason: r.reason,
    dryRun: r.dry_run === 1,
    pid: r.pid,
    childPgid: r.child_pgid ?? null,
    childStarted: r.child_started ?? null,
  };
}

export function toTaskState(r: Record<string, unknown>): TaskState {
  return {
    task: r.task as string,
    lastFire: r.last_fire as number | null,
    lastStartedAt: r.last_started_at as number | null,
    lastFinishedAt: r.last_finished_at as number | null,
    lastStatus: r.last_status as RunStatus | null,
    lastRunId: r.last_run_id as number | null,
    lastSuccessAt: r.last_success_at as number | null,
    lastFailureAt: r.last_failure_at as number | null,
    consecutiveFailures: r.consecutive_failures as number,
  };
}
