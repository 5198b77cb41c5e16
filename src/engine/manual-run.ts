/**
 * The rules of a run a person asked for (`run-task`, the API, the library's runNow): a disabled
 * or paused task is refused unless forced; a window does not hold it back (it was asked for now), but the
 * caller is told; retries apply as to a scheduled run unless turned off.
 */
import type { TaskConfig } from '../config/types.js';
import { formatZoned } from '../core/local-time.js';
import { isInside, nextInside } from '../core/window.js';
import { UsageError } from '../errors/usage-error.js';
import type { PauseRecord } from '../store/types.js';

export interface ManualRunOptions {
  /** Report what would be done, change nothing. */
  readonly dryRun?: boolean;
  /** Run a disabled or paused task anyway. */
  readonly force?: boolean;
  /** Retry a failed run as the task's `retries` say. @default true */
  readonly retry?: boolean;
}

export class TaskDisabledError extends UsageError {
  override name = 'TaskDisabledError';
}

export class TaskPausedError extends UsageError {
  override name = 'TaskPausedError';
}

/**
 * Throws when the task may not be run by hand so (disabled or paused, not forced). A dry run
 * changes nothing: allowed.
 */
export function checkManualRun(
  task: TaskConfig | undefined,
  opts: ManualRunOptions,
  pause?: PauseRecord,
): void {
  if (!task || opts.force || opts.dryRun) return;
  if (!task.enabled)
    throw new TaskDisabledError(`task ${task.id} is disabled (enabled: false); use --force to run it anyway`);
  if (pause) {
    const why = pause.reason ? `: ${pause.reason}` : '';
    throw new TaskPausedError(
      `task ${task.id} is paused (by ${pause.by} since ${new Date(pause.at).toISOString().replace(/\.\d{3}Z$/, 'Z')}${why}); use --force to run it anyway, or caretaker resume ${task.id}`,
    );
  }
}

/** One line for the caller when the task is outside its window (a manual run starts anyway). */
export function windowNotice(task: TaskConfig | undefined, now: number): string | null {
  if (!task?.window || isInside(now, task.window)) return null;
  const opens = formatZoned(nextInside(now, task.window), task.window.timezone);
  return `note: ${task.id} is outside its window (it next opens ${opens}); a manual run starts now anyway`;
}
