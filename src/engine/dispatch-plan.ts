/**
 * Which ready runs start now, in what order, and what happens to the others — a pure plan the
 * engine applies. Manual runs first, then the highest priority score, then the oldest; one run
 * per task at a time; the host's concurrency and each group's cap; for scheduled runs (not
 * manual ones, nor their retries) the window and depends_on. The starting deadline is decided
 * apart, for every waiting run.
 */
import type { Config, TaskConfig } from '../config/types.js';
import { formatDuration } from '../core/duration.js';
import { isInside, nextInside } from '../core/window.js';
import type { RunRecord } from '../store/types.js';
import type { Gate } from './dependency-gate.js';

export interface ReadyRun {
  readonly run: RunRecord;
}

export type DispatchStep<R extends ReadyRun> =
  | { readonly kind: 'start'; readonly entry: R; readonly task: TaskConfig }
  | { readonly kind: 'defer'; readonly entry: R; readonly readyAt: number }
  | { readonly kind: 'skip'; readonly entry: R; readonly reason: string; readonly missed: boolean }
  | { readonly kind: 'cancel'; readonly entry: R; readonly reason: string };

export interface DispatchInput<R extends ReadyRun> {
  /** Ready runs, already in start order (see orderForStart). */
  readonly ready: readonly R[];
  readonly now: number;
  readonly config: Config;
  /** Tasks of the runs going now. */
  readonly runningTasks: readonly TaskConfig[];
  /**
   * Cluster tasks running on other hosts of the fleet: a cluster task runs once at a time
   * fleet-wide, and they count in group caps (a `group: db` cap of 1 is one run anywhere).
   * They take nothing of this host's concurrency.
   */
  readonly elsewhere?: readonly TaskConfig[];
  taskOf(id: string): TaskConfig | undefined;
  gate(task: TaskConfig, run: RunRecord): Gate;
}

/** Manual runs first, then by score (highest first), then the oldest run. */
export function orderForStart<R extends ReadyRun>(ready: R[], score: (r: R) => number): R[] {
  const scores = new Map(ready.map((r) => [r.run.id, score(r)]));
  return ready.sort(
    (a, b) =>
      Number(b.run.trigger === 'manual') - Number(a.run.trigger === 'manual') ||
      scores.get(b.run.id)! - scores.get(a.run.id)! ||
      a.run.id - b.run.id,
  );
}

/**
 * The first instant a waiting scheduled run is past its starting_deadline (counted from when it
 * was due), or null when it has none. The engine arms a timer for it, so the skip and its
 * `missed` alert come at the deadline, not when a slot frees up.
 */
export function deadlineOf(run: RunRecord, task: TaskConfig | undefined): number | null {
  if (!task || run.trigger === 'manual' || task.startingDeadlineMs === null) return null;
  return (run.notBefore ?? run.queuedAt) + task.startingDeadlineMs + 1;
}

/**
 * Waiting runs past their starting_deadline, as skips: decided for every waiting run, whether it
 * waits for a free slot, its group, its own task's run, a window or a dependency.
 */
export function expiredRuns<R extends ReadyRun>(
  waiting: readonly R[],
  now: number,
  taskOf: (id: string) => TaskConfig | undefined,
): DispatchStep<R>[] {
  const steps: DispatchStep<R>[] = [];
  for (const entry of waiting) {
    const task = taskOf(entry.run.task);
    const deadline = deadlineOf(entry.run, task);
    if (deadline === null || now < deadline) continue;
    const since = entry.run.notBefore ?? entry.run.queuedAt;
    const reason = `could not start within starting_deadline (${formatDuration(task!.startingDeadlineMs!)}); still waiting ${formatDuration(now - since)} after it was due`;
    steps.push({ kind: 'skip', entry, reason, missed: true });
  }
  return steps;
}

/** Which ready runs start now (runs past their starting_deadline are taken out first: expiredRuns). */
export function planDispatch<R extends ReadyRun>(input: DispatchInput<R>): DispatchStep<R>[] {
  const { now, config } = input;
  const steps: DispatchStep<R>[] = [];
  const busy = new Set(input.runningTasks.map((t) => t.id));
  const inGroup = new Map<string, number>();
  for (const t of [...input.runningTasks, ...(input.elsewhere ?? [])])
    if (t.group !== null) inGroup.set(t.group, (inGroup.get(t.group) ?? 0) + 1);
  for (const t of input.elsewhere ?? []) busy.add(t.id);
  let running = input.runningTasks.length;

  for (const entry of input.ready) {
    if (running >= config.concurrency) break;
    const task = input.taskOf(entry.run.task);
    if (!task) {
      steps.push({
        kind: 'cancel',
        entry,
        reason: `task "${entry.run.task}" is no longer in the configuration`,
      });
      continue;
    }
    if (busy.has(task.id)) continue;
    if (task.group !== null && (inGroup.get(task.group) ?? 0) >= (config.groups[task.group] ?? Infinity))
      continue;
    // A person asked for a manual run (and its retries, which belong to no fire) now.
    const manual =
      entry.run.trigger === 'manual' || (entry.run.trigger === 'retry' && entry.run.scheduledFor === null);
    if (!manual) {
      if (task.window && !isInside(now, task.window)) {
        steps.push({ kind: 'defer', entry, readyAt: nextInside(now, task.window) });
        continue;
      }
      const gate = input.gate(task, entry.run);
      if (gate.kind === 'wait') continue;
      if (gate.kind === 'skip') {
        steps.push({ kind: 'skip', entry, reason: gate.reason, missed: false });
        continue;
      }
    }
    busy.add(task.id);
    if (task.group !== null) inGroup.set(task.group, (inGroup.get(task.group) ?? 0) + 1);
    running++;
    steps.push({ kind: 'start', entry, task });
  }
  return steps;
}
