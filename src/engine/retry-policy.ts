/** Whether a finished run is retried, and when. Pure. */
import type { TaskConfig } from '../config/types.js';
import { retryDelay } from '../core/due-time.js';
import { formatDuration } from '../core/duration.js';
import { FAILURE_STATUSES, type RunRecord } from '../store/types.js';

export interface RetryPlan {
  readonly attempt: number;
  readonly notBefore: number;
  readonly delayMs: number;
  readonly reason: string;
}

/**
 * Runs that failed or timed out are retried up to `retries.count` times with exponential
 * backoff, manual ones too unless asked without (`run-task --no-retry`: `noRetry`); never dry
 * runs, interrupted runs, or anything while caretaker stops.
 */
export function planRetry(
  run: RunRecord,
  task: TaskConfig,
  ctx: { now: number; host: string; stopping: boolean; noRetry?: boolean },
): RetryPlan | null {
  const retryable = FAILURE_STATUSES.includes(run.status) && run.status !== 'interrupted';
  if (!retryable || run.dryRun || ctx.noRetry === true || ctx.stopping || run.attempt > task.retries.count)
    return null;
  const delayMs = retryDelay(
    run.attempt,
    task.retries.backoffMs,
    task.retries.maxBackoffMs,
    `${task.id}@${ctx.host}#${run.scheduledFor ?? run.id}`,
  );
  return {
    attempt: run.attempt + 1,
    notBefore: ctx.now + delayMs,
    delayMs,
    reason: `retry ${run.attempt} of ${task.retries.count} after ${run.status} (run #${run.id}), in ${formatDuration(delayMs)}`,
  };
}
