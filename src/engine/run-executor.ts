/**
 * Executes one run of one task: builds the action's context, enforces the timeout (abort, then
 * give up after the kill grace), captures the output tail and turns the outcome into a status.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type {
  ActionContext,
  ActionResult,
  AnyAction,
  DatasetSource,
  Progress,
  SampleHistory,
  TaskHistory,
} from '../actions/types.js';
import type { Config, TaskConfig } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import type { RollbackPoints } from '../safety/rollback-points.js';
import type { FinalStatus, RunRecord } from '../store/types.js';
import { OutputTail } from './output-tail.js';
import { RunRollback } from './run-rollback.js';

/** Why a run was aborted from outside the action. */
export type AbortCause =
  { kind: 'timeout' } | { kind: 'cancel'; reason: string } | { kind: 'shutdown'; reason: string };

export interface Execution {
  readonly status: FinalStatus;
  readonly result: ActionResult | null;
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly outputTail: string;
  readonly reason: string | null;
  readonly startedAt: number;
  readonly finishedAt: number;
}

export interface ExecuteInput {
  readonly run: RunRecord;
  readonly task: TaskConfig;
  readonly action: AnyAction;
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly history: TaskHistory;
  readonly controller: AbortController;
  readonly onProgress?: (p: Progress) => void;
  /** Each piece of output as it is written (the dashboard follows a run live). */
  readonly onOutput?: (text: string) => void;
  /** The run started a process group (recorded so a crash of caretaker can end the orphan). */
  readonly onProcess?: (pgid: number) => void;
  readonly samples?: SampleHistory;
  readonly datasets?: DatasetSource;
  /** Where rollback points live; without it `rollback:` and `withRollbackPoint` are unavailable. */
  readonly rollbacks?: RollbackPoints;
}

export class RunAbort extends Error {
  override name = 'RunAbort';
  constructor(readonly abortCause: AbortCause) {
    super(abortCause.kind === 'timeout' ? 'timed out' : abortCause.reason);
  }
}

function statusOf(result: ActionResult): FinalStatus {
  if (!result.ok) return 'failed';
  return result.warnings && result.warnings.length > 0 ? 'warning' : 'success';
}

export async function executeRun(input: ExecuteInput): Promise<Execution> {
  const { run, task, action, config, clock, controller } = input;
  const tail = new OutputTail(config.history.outputTailBytes);
  const startedAt = clock.now();
  // Durations on the monotonic clock: a wall-clock step during the run does not change them.
  const startedMono = clock.monotonic();
  const logger = input.logger.child({ task: task.id, run: run.id, attempt: run.attempt });

  const timeoutTimer = clock.setTimer(
    () => controller.abort(new RunAbort({ kind: 'timeout' })),
    task.timeoutMs,
  );

  // If the action ignores the abort, stop waiting for it once the kill grace has passed too.
  let giveUp: (() => void) | undefined;
  const abandoned = new Promise<'abandoned'>((resolvePromise) => {
    giveUp = () => resolvePromise('abandoned');
  });
  let abandonTimer: ReturnType<Clock['setTimer']> | undefined;
  const onAbort = () => {
    abandonTimer = clock.setTimer(() => giveUp?.(), task.killGraceMs + 1_000);
  };
  controller.signal.addEventListener('abort', onAbort, { once: true });

  const resolvePath = (p: string) => resolve(config.dir, p);
  const rollback = new RunRollback({
    points: input.rollbacks,
    task,
    action,
    runId: run.id,
    dryRun: run.dryRun,
    baseDir: config.dir,
    logger,
    signal: controller.signal,
    output: (text) => {
      tail.write(text);
      input.onOutput?.(text);
    },
    resolvePath,
  });
  const ctx: ActionContext = {
    taskId: task.id,
    runId: run.id,
    attempt: run.attempt,
    trigger: run.trigger,
    host: config.host,
    logger,
    signal: controller.signal,
    dryRun: run.dryRun,
    clock,
    baseDir: config.dir,
    stateDir: config.stateDir,
    taskStateDir: resolve(config.stateDir, 'tasks', task.id),
    killGraceMs: task.killGraceMs,
    output: (text) => {
      tail.write(text);
      input.onOutput?.(text);
    },
    progress: (p) => input.onProgress?.(p),
    snapshot: (paths) => rollback.snapshot(paths),
    withRollbackPoint: (paths, change, opts) => rollback.guard(paths, change, opts),
    history: input.history,
    trackProcess: (pgid) => input.onProcess?.(pgid),
    resolvePath,
    samples: input.samples,
    datasets: input.datasets,
  };

  let result: ActionResult | null = null;
  let error: Error | null = null;
  let abandonedRun = false;
  try {
    const outcome = await Promise.race([
      rollback.before().then(
        () => action.run(ctx, task.options),
        (err: Error) => {
          throw new Error(`no rollback point could be taken, so the task did not run: ${err.message}`);
        },
      ),
      abandoned,
    ]);
    if (outcome === 'abandoned') abandonedRun = true;
    else result = outcome;
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err));
  } finally {
    clock.clearTimer(timeoutTimer);
    if (abandonTimer) clock.clearTimer(abandonTimer);
    controller.signal.removeEventListener('abort', onAbort);
  }
  const finishedAt = clock.now();
  const durationMs = Math.round(clock.monotonic() - startedMono);

  let status: FinalStatus;
  let reason: string | null = null;
  const cause = controller.signal.aborted
    ? (controller.signal.reason as RunAbort | undefined)?.abortCause
    : undefined;
  if (cause?.kind === 'timeout') {
    status = 'timeout';
    reason = `timed out after ${formatDuration(task.timeoutMs)}; its process group was terminated`;
    if (abandonedRun)
      reason = `timed out after ${formatDuration(task.timeoutMs)} and did not stop within ${formatDuration(task.killGraceMs)}`;
  } else if (cause?.kind === 'cancel') {
    status = 'cancelled';
    reason = cause.reason;
  } else if (cause?.kind === 'shutdown') {
    status = 'interrupted';
    reason = cause.reason;
  } else if (error) {
    status = 'failed';
    reason = error.message.split('\n')[0] ?? error.name;
    tail.write(`\n${error.stack ?? error.message}\n`);
  } else {
    status = statusOf(result!);
    if (status === 'failed') reason = result!.summary;
  }
  const pointStep = rollback.dryRunStep();
  if (pointStep && result) result = { ...result, plan: [pointStep, ...(result.plan ?? [])] };
  const restored = await rollback.afterRun(status, abandonedRun, reason);
  if (restored) {
    const note = restored.error ?? `rolled back to ${restored.point}`;
    reason = reason ? `${reason}; ${note}` : note;
    result = {
      ...(result ?? { ok: false, summary: reason }),
      details: {
        ...result?.details,
        rollback: { point: restored.point, ...restored.report, error: restored.error },
      },
    };
  }
  if (result?.summary) tail.write(tail.isEmpty ? result.summary : '');
  logger.info(
    { status, durationMs, reason: reason ?? undefined },
    `${task.id} ${status}${reason ? `: ${reason}` : ''}`,
  );
  return {
    status,
    result,
    exitCode: result?.exitCode ?? null,
    durationMs,
    outputTail: tail.toString(),
    reason,
    startedAt,
    finishedAt,
  };
}
