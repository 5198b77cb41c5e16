/**
 * What a schedule fire becomes — pure decisions, applied by the engine.
 *
 * - Missed fires (due while caretaker was down or the machine suspended) follow `missed:`:
 *   skip records one skip; once runs one catch-up for all; all runs each (up to missed_max), and
 *   `starting_deadline` drops those too old.
 * - A fire while the task still has a run follows `overlap:`: queue enqueues (up to queue_max
 *   waiting runs, beyond that the fire is skipped); replace cancels
 *   the current runs; forbid blocks it, and the blocked fire is a missed one (skip records it,
 *   once coalesces it into the waiting run, all queues it up to missed_max).
 */
import type { TaskConfig } from '../config/types.js';
import { formatDuration } from '../core/duration.js';

const iso = (t: number) => new Date(t).toISOString();

export type MissedDecision =
  | { readonly kind: 'skip'; readonly fire: number; readonly reason: string; readonly missed: boolean }
  | { readonly kind: 'catch-up'; readonly fire: number; readonly note: string };

export interface MissedFires {
  /** The latest missed fires (at most missed_max), oldest first. */
  readonly late: readonly number[];
  /** How many fires were missed in all. */
  readonly count: number;
  readonly now: number;
  /** Missed while caretaker was not running (start-up), else while suspended or blocked. */
  readonly atStart: boolean;
  /** A fire's due instant (jitter, window, cooldown applied). */
  dueOf(fire: number): number;
}

export function decideMissed(task: TaskConfig, m: MissedFires): MissedDecision[] {
  const last = m.late[m.late.length - 1]!;
  const runs = `${m.count} scheduled run${m.count === 1 ? '' : 's'}`;
  const why = m.atStart
    ? 'while caretaker was not running'
    : 'while the machine was suspended or caretaker was blocked';
  const tooOld = (fire: number) =>
    task.startingDeadlineMs !== null && m.now - m.dueOf(fire) > task.startingDeadlineMs;
  if (task.missed === 'skip') {
    return [{ kind: 'skip', fire: last, reason: `missed ${runs} ${why} (missed: skip)`, missed: false }];
  }
  if (task.missed === 'once') {
    if (tooOld(last)) {
      const deadline = formatDuration(task.startingDeadlineMs!);
      return [
        {
          kind: 'skip',
          fire: last,
          reason: `missed ${runs} ${why}; the latest is older than starting_deadline (${deadline})`,
          missed: true,
        },
      ];
    }
    return [{ kind: 'catch-up', fire: last, note: `catch-up: missed ${runs} ${why} (missed: once)` }];
  }
  const fresh = m.late.filter((f) => !tooOld(f));
  const dropped = m.count - fresh.length;
  const out: MissedDecision[] = [];
  if (dropped > 0) {
    // Name only what dropped them: the missed_max cap, the starting_deadline, or both.
    const overMax = m.count - m.late.length;
    const tooLate = m.late.length - fresh.length;
    const causes = [
      overMax > 0 ? `missed_max ${task.missedMax}` : null,
      tooLate > 0 ? `starting_deadline ${formatDuration(task.startingDeadlineMs!)}` : null,
    ].filter((c) => c !== null);
    out.push({
      kind: 'skip',
      // Recorded just before the first fire that still runs, so the claimed fire never goes back.
      fire: fresh.length > 0 ? fresh[0]! - 1 : last,
      reason: `skipped ${dropped} of ${runs} missed ${why} (${causes.join(', ')})`,
      missed: true,
    });
  }
  for (const fire of fresh)
    out.push({ kind: 'catch-up', fire, note: `catch-up for ${iso(fire)} (missed: all)` });
  return out;
}

export type OverlapDecision =
  | { readonly kind: 'enqueue' }
  | { readonly kind: 'replace-then-enqueue'; readonly by: string }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'coalesce'; readonly into: number };

export interface ActiveRun {
  readonly id: number;
  readonly status: 'queued' | 'running' | string;
}

/**
 * Under overlap: queue, why one more run may not join the task's runs ahead of it, or null. A
 * task holds at most 1 + queue_max runs: the current one (running, or next to start) and
 * queue_max waiting behind it. The same rule for a schedule fire and a manual run, in the
 * daemon or in CLI processes without one (there `active` is the store's view: every live
 * process's runs of the task with a lower id).
 */
export function queueFull(task: TaskConfig, active: readonly ActiveRun[]): string | null {
  const waiting = active.length - 1;
  if (waiting < task.queueMax) return null;
  const runs = waiting === 1 ? '1 run already waiting' : `${waiting} runs already waiting`;
  return `queue full: ${runs} (queue_max ${task.queueMax})`;
}

/** A fire of `task` while these runs of it are queued or running. */
export function decideOverlap(task: TaskConfig, fire: number, active: readonly ActiveRun[]): OverlapDecision {
  if (active.length === 0) return { kind: 'enqueue' };
  if (task.overlap === 'queue') {
    const full = queueFull(task, active);
    return full ? { kind: 'skip', reason: full } : { kind: 'enqueue' };
  }
  if (task.overlap === 'replace')
    return { kind: 'replace-then-enqueue', by: `the run scheduled for ${iso(fire)} (overlap: replace)` };
  const waiting = active.filter((r) => r.status === 'queued');
  const blocker = active.find((r) => r.status === 'running') ?? active[0]!;
  const busy = `run #${blocker.id} is still ${blocker.status === 'running' ? 'running' : 'waiting'}`;
  if (task.missed === 'skip') return { kind: 'skip', reason: `${busy} (overlap: forbid, missed: skip)` };
  if (task.missed === 'once' && waiting.length > 0) return { kind: 'coalesce', into: waiting[0]!.id };
  if (task.missed === 'all' && waiting.length >= task.missedMax) {
    return {
      kind: 'skip',
      reason: `${busy} and ${waiting.length} runs are already waiting (missed_max ${task.missedMax})`,
    };
  }
  return { kind: 'enqueue' };
}
