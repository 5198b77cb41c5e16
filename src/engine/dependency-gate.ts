/**
 * `depends_on` at run time. A run of task A for the cycle (schedule fire) T waits for each
 * dependency B that also fires at T, and is skipped — with the reason — when B's run for T did not
 * succeed. A dependency that does not fire at T places no condition on A.
 */
import type { TaskConfig } from '../config/types.js';
import { firesAt } from '../core/schedule.js';
import { SUCCESS_STATUSES, type RunStatus } from '../store/types.js';
import type { TaskTimer } from './task-timer.js';

export type Gate = { kind: 'go' } | { kind: 'wait' } | { kind: 'skip'; reason: string };

export interface CycleView {
  readonly timers: ReadonlyMap<string, TaskTimer>;
  /** Does the task have a queued or running run for this fire? */
  active(taskId: string, fire: number): boolean;
  result(taskId: string, fire: number): { status: RunStatus; runId: number } | undefined;
}

export function dependencyGate(task: TaskConfig, fire: number | null, view: CycleView): Gate {
  if (fire === null || task.dependsOn.length === 0) return { kind: 'go' };
  for (const depId of task.dependsOn) {
    const dep = view.timers.get(depId);
    const schedule = dep?.task.schedule;
    if (!dep || !schedule || !firesAt(schedule, fire)) continue;
    // Active or ended here, or (a cluster task) on another host of the fleet — where it may be
    // enabled while it is disabled here.
    if (view.active(depId, fire)) return { kind: 'wait' };
    const result = view.result(depId, fire);
    if (result) {
      if (SUCCESS_STATUSES.includes(result.status)) continue;
      return {
        kind: 'skip',
        reason: `dependency "${depId}" ended ${result.status} in this cycle (run #${result.runId})`,
      };
    }
    // Disabled here and run by no host: it places no condition on this one.
    if (!dep.scheduled) continue;
    // The dependency fires in this cycle but has not yet (jitter, window): wait for it.
    if (dep.pendingFire !== null && dep.pendingFire <= fire) return { kind: 'wait' };
    return { kind: 'skip', reason: `dependency "${depId}" did not run in this cycle` };
  }
  return { kind: 'go' };
}
