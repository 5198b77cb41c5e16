/**
 * Pausing a task (`caretaker pause`, the API, the library): kept in the store, so a restart or a
 * reload keeps it, and on a fleet's shared store every host sees it. While paused the task does
 * not start: each schedule slot is recorded as a skipped run (the engine, engine.ts), and a run
 * by hand is refused unless forced (manual-run.ts).
 */
import type { Config } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { UsageError } from '../errors/usage-error.js';
import type { PauseRecord, PausesStore } from '../store/types.js';
import { currentUser } from '../os/current-user.js';
import { unknownTask } from './unknown-task.js';

/** A reason is a note for people, not a document: at most this many characters are kept. */
export const MAX_PAUSE_REASON = 500;
const MAX_PAUSED_BY = 100;

export interface PauseOptions {
  /** Why (shown in list-tasks, status, and on every skipped slot). */
  readonly reason?: string | null;
  /** Who. @default the Unix user of this process */
  readonly by?: string;
}

export interface PauseDeps {
  readonly config: Config;
  readonly store: PausesStore;
  readonly clock: Clock;
}

/** The reason every slot skipped while paused carries: `paused by alice: disk swap`. */
export function pausedReason(p: PauseRecord): string {
  return `paused by ${p.by}${p.reason ? `: ${p.reason}` : ''}`;
}

/** One line of text: newlines and tabs become spaces, runs of spaces one. */
function oneLineText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function checkTask(config: Config, taskId: string): void {
  if (!config.tasks.some((t) => t.id === taskId)) throw unknownTask(taskId, config);
}

/** Pauses a task of the configuration; `paused: false` (and the pause in force) when it already was. */
export async function pauseTask(
  d: PauseDeps,
  taskId: string,
  opts: PauseOptions = {},
): Promise<{ readonly paused: boolean; readonly record: PauseRecord }> {
  checkTask(d.config, taskId);
  const reason = opts.reason == null ? '' : oneLineText(opts.reason);
  if (reason.length > MAX_PAUSE_REASON)
    throw new UsageError(
      `--reason: at most ${MAX_PAUSE_REASON} characters, got ${reason.length} (say more in your ticket)`,
    );
  const by = oneLineText(opts.by ?? '') || currentUser();
  if (by.length > MAX_PAUSED_BY)
    throw new UsageError(`who paused: at most ${MAX_PAUSED_BY} characters, got ${by.length}`);
  return d.store.pauseTask(taskId, { by, reason: reason === '' ? null : reason, at: d.clock.now() });
}

/**
 * Resumes a task; `resumed: false` when it was not paused. A pause of a task no longer in the
 * configuration can still be ended (it would otherwise stay listed for good).
 */
export async function resumeTask(
  d: PauseDeps,
  taskId: string,
): Promise<{ readonly resumed: boolean; readonly record: PauseRecord | null }> {
  const record = await d.store.resumeTask(taskId);
  if (!record) checkTask(d.config, taskId);
  return { resumed: record !== undefined, record: record ?? null };
}
