/**
 * The rules of a run a person asked for (`run-task`, the API, the library's runNow): a disabled
 * task is refused unless forced; a window does not hold it back (it was asked for now), but the
 * caller is told; retries apply as to a scheduled run unless turned off.
 */
import type { TaskConfig } from '../config/types.js';
import { formatZoned } from '../core/local-time.js';
import { isInside, nextInside } from '../core/window.js';
import { UsageError } from '../errors/usage-error.js';

export interface ManualRunOptions {
  /** Report what would be done, change nothing. */
  readonly dryRun?: boolean;
  /** Run a disabled task anyway. */
  readonly force?: boolean;
  /** Retry a failed run as the task's `retries` say. @default true */
  readonly retry?: boolean;
}

export class TaskDisabledError extends UsageError {
  override name = 'TaskDisabledError';
}

/** Throws when the task may not be run by hand so (disabled, not forced). A dry run changes nothing: allowed. */
export function checkManualRun(task: TaskConfig | undefined, opts: ManualRunOptions): void {
  if (!task || task.enabled || opts.force || opts.dryRun) return;
  throw new TaskDisabledError(`task ${task.id} is disabled (enabled: false); use --force to run it anyway`);
}

/** One line for the caller when the task is outside its window (a manual run starts anyway). */
export function windowNotice(task: TaskConfig | undefined, now: number): string | null {
  if (!task?.window || isInside(now, task.window)) return null;
  const opens = formatZoned(nextInside(now, task.window), task.window.timezone);
  return `note: ${task.id} is outside its window (it next opens ${opens}); a manual run starts now anyway`;
}
