/**
 * Which ready runs start now, in what order, and what happens to the others — a pure plan the
 * engine applies. Manual runs first, then the highest priority score, then the oldest; one run
 * per task at a time; the host's concurrency and each group's cap; for scheduled runs the
 * window, the starting deadline and depends_on.
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

export function planDispatch<R extends ReadyRun>(input: DispatchInput<R>): DispatchStep<R>[] {
  const { now, config } = input;
  const steps: DispatchStep<R>[] = [];
  const busy = new Set(input.runningTasks.map((t) => t.id));
  const inGroup = new Map<string, number>();
  for (const t of input.runningTasks)
    if (t.group !== null) inGroup.set(t.group, (inGroup.get(t.group) ?? 0) + 1);
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
    if (entry.run.trigger !== 'manual') {
      if (task.window && !isInside(now, task.window)) {
        steps.push({ kind: 'defer', entry, readyAt: nextInside(now, task.window) });
        continue;
      }
      const since = entry.run.notBefore ?? entry.run.queuedAt;
      if (task.startingDeadlineMs !== null && now - since > task.startingDeadlineMs) {
        const reason = `could not start within starting_deadline (${formatDuration(task.startingDeadlineMs)}); it was ${formatDuration(now - since)} late`;
        steps.push({ kind: 'skip', entry, reason, missed: true });
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
