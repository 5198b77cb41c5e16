/**
 * `caretaker rollback ID --reason TEXT`: refuses while the point's task is running, restores the
 * point, and records the rollback in the task's history (trigger `rollback`) with its reason.
 */
import { TaskFailedError } from '../errors/task-failed-error.js';
import { UsageError } from '../errors/usage-error.js';
import type { Clock } from '../core/clock.js';
import { normalizePointId } from '../safety/rollback-manifest.js';
import { RollbackError, type RollbackPoints } from '../safety/rollback-points.js';
import { restorePoint, type RestoreReport } from '../safety/rollback-restore.js';
import type { RunRecord, Store } from '../store/types.js';
import { describe } from './run-rollback.js';

export interface ManualRollbackInput {
  readonly points: RollbackPoints;
  readonly store: Store;
  readonly clock: Clock;
  readonly host: string;
  readonly id: string;
  readonly reason: string;
  readonly dryRun?: boolean;
  readonly pid?: number;
}

export interface ManualRollbackOutcome {
  readonly report: RestoreReport;
  /** The history row recording the rollback (null for a dry run). */
  readonly run: RunRecord | null;
}

/** A task id for the history of points not taken for a task (none today, but manifests allow it). */
const NO_TASK = '(rollback)';

export async function rollbackToPoint(input: ManualRollbackInput): Promise<ManualRollbackOutcome> {
  const id = normalizePointId(input.id);
  if (!id)
    throw new UsageError(
      `"${input.id}" is not a rollback point id; expected rb-N (see caretaker list-rollbacks)`,
    );
  const reason = input.reason.trim();
  if (!reason)
    throw new UsageError('rollback needs --reason TEXT: why the files are being restored (kept in history)');
  let manifest;
  try {
    manifest = await input.points.get(id);
  } catch (err) {
    if (err instanceof RollbackError) throw new UsageError(err.message);
    throw err;
  }
  const task = manifest.task ?? NO_TASK;
  const busy = (await input.store.activeRuns(input.host)).find((r) => r.task === task && !r.dryRun);
  if (busy) {
    throw new TaskFailedError(
      `task "${task}" has run #${busy.id} ${busy.status}; wait for it to finish (or cancel it) before rolling back its files`,
    );
  }
  if (input.dryRun) {
    return { report: await restore(input, id, reason, null), run: null };
  }
  const now = input.clock.now();
  const row = await input.store.insertRun({
    task,
    host: input.host,
    trigger: 'rollback',
    scheduledFor: null,
    notBefore: now,
    queuedAt: now,
    status: 'running',
    startedAt: now,
    attempt: 1,
    dryRun: false,
    pid: input.pid ?? process.pid,
    reason: `rollback to ${id}: ${reason}`,
  });
  try {
    const report = await restore(input, id, reason, row.id);
    const finishedAt = input.clock.now();
    const run = await input.store.finishRun(row.id, {
      status: report.warnings.length > 0 ? 'warning' : 'success',
      finishedAt,
      durationMs: finishedAt - now,
      result: {
        ok: true,
        summary: `rolled back to ${id}: ${describe(report)}`,
        changed: report.restored.length + report.deleted.length + report.dirsCreated.length > 0,
        filesModified: report.restored.length + report.deleted.length,
        warnings: report.warnings.length > 0 ? report.warnings : undefined,
        details: { rollback: report, reason },
      },
    });
    return { report, run };
  } catch (err) {
    const finishedAt = input.clock.now();
    await input.store.finishRun(row.id, {
      status: 'failed',
      finishedAt,
      durationMs: finishedAt - now,
      reason: `rollback to ${id} failed: ${(err as Error).message}`,
    });
    throw err;
  }
}

async function restore(input: ManualRollbackInput, id: string, reason: string, runId: number | null) {
  try {
    return await restorePoint(input.points, id, { reason, dryRun: input.dryRun, runId });
  } catch (err) {
    if (err instanceof RollbackError) throw new TaskFailedError(err.message);
    throw err;
  }
}
