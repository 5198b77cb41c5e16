/**
 * Rollback points around one run: the point a task with `rollback:` gets before its action runs,
 * the `ctx.snapshot` and `ctx.withRollbackPoint` hooks, and the automatic restore of
 * `rollback: on_failure`.
 */
import type { Logger } from 'pino';
import type { AnyAction, GuardedChange, GuardOptions } from '../actions/types.js';
import type { TaskConfig } from '../config/types.js';
import type { RollbackPoints } from '../safety/rollback-points.js';
import { restorePoint, type RestoreReport } from '../safety/rollback-restore.js';
import type { FinalStatus } from '../store/types.js';

export interface RunRollbackInput {
  readonly points: RollbackPoints | undefined;
  readonly task: TaskConfig;
  readonly action: AnyAction;
  readonly runId: number;
  readonly dryRun: boolean;
  readonly baseDir: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly output: (text: string) => void;
  readonly resolvePath: (p: string) => string;
}

/** Statuses after which `rollback: on_failure` restores the point. */
const RESTORE_AFTER: readonly FinalStatus[] = ['failed', 'timeout', 'cancelled', 'interrupted'];

export interface AutoRestore {
  readonly point: string;
  readonly report?: RestoreReport;
  /** Why the point was not restored, or why restoring failed. */
  readonly error?: string;
}

export class RunRollback {
  #point: string | null = null;

  constructor(private readonly input: RunRollbackInput) {}

  /** The point taken before the action ran, if any. */
  get point(): string | null {
    return this.#point;
  }

  #points(): RollbackPoints {
    if (!this.input.points) throw new Error('rollback points are not available in this context');
    return this.input.points;
  }

  /** Takes the task's point; throws (failing the run before the action starts) when it cannot. */
  async before(): Promise<void> {
    const { task, action, dryRun } = this.input;
    if (!task.rollback || dryRun || !this.input.points) return;
    const declared = action.modifies?.(task.options, this.input.resolvePath) ?? [];
    const paths = [...new Set([...declared, ...task.rollback.paths])];
    const { manifest, retention } = await this.#points().take({
      paths,
      baseDir: this.input.baseDir,
      kind: 'task',
      task: task.id,
      runId: this.input.runId,
      label: `before run #${this.input.runId} of ${task.id}`,
      signal: this.input.signal,
    });
    this.#point = manifest.id;
    this.input.output(
      `rollback point ${manifest.id}: ${manifest.files} file${manifest.files === 1 ? '' : 's'}, ${manifest.addedBytes} new bytes stored\n`,
    );
    if (retention.pointsDeleted.length > 0)
      this.input.logger.info(
        { deleted: retention.pointsDeleted },
        'old rollback points deleted by retention',
      );
  }

  /** In a dry run: the point a real run would take, as a plan step. */
  dryRunStep(): string | null {
    const { task, action, dryRun } = this.input;
    if (!task.rollback || !dryRun) return null;
    const declared = action.modifies?.(task.options, this.input.resolvePath) ?? [];
    const paths = [...new Set([...declared, ...task.rollback.paths])];
    return `take a rollback point of ${paths.join(', ')}${task.rollback.onFailure ? ' (restored if the run fails)' : ''}`;
  }

  /** `ctx.snapshot`: adds paths to the task's point; records nothing without `rollback:`. */
  async snapshot(paths: readonly string[]): Promise<void> {
    if (this.#point === null || paths.length === 0) return;
    await this.#points().extend(this.#point, paths, this.input.baseDir, this.input.signal);
  }

  /** `ctx.withRollbackPoint`. */
  async guard<T>(
    paths: readonly string[],
    change: () => Promise<T>,
    opts: GuardOptions<T> = {},
  ): Promise<GuardedChange<T>> {
    if (this.input.dryRun)
      throw new Error('withRollbackPoint cannot be used in a dry run; report a plan instead');
    const { manifest } = await this.#points().take({
      paths,
      baseDir: this.input.baseDir,
      kind: 'scoped',
      task: this.input.task.id,
      runId: this.input.runId,
      label: opts.label ?? `change made by run #${this.input.runId} of ${this.input.task.id}`,
      signal: this.input.signal,
    });
    const point = manifest.id;
    let value: T;
    try {
      value = await change();
    } catch (err) {
      const report = await this.#restore(point, `the change failed: ${(err as Error).message}`);
      this.input.output(`rolled back to ${point}: ${describe(report)}\n`);
      throw err;
    }
    if (opts.keep && !(await opts.keep(value))) {
      const report = await this.#restore(point, 'the change was not kept');
      this.input.output(`rolled back to ${point}: ${describe(report)}\n`);
      return { value, kept: false, point, restore: report };
    }
    return { value, kept: true, point };
  }

  #restore(point: string, reason: string): Promise<RestoreReport> {
    // A restore must finish even when the run was aborted: a half-restored tree is the worst outcome.
    return restorePoint(this.#points(), point, { reason, runId: this.input.runId });
  }

  /** After the run: restores the task's point for `rollback: on_failure` when the run failed. */
  async afterRun(status: FinalStatus, abandoned: boolean, why: string | null): Promise<AutoRestore | null> {
    const { task } = this.input;
    if (this.#point === null || !task.rollback?.onFailure || !RESTORE_AFTER.includes(status)) return null;
    const point = this.#point;
    if (abandoned) {
      return {
        point,
        error: `the action did not stop, so ${point} was not restored automatically; once it has stopped: caretaker rollback ${point} --reason "..."`,
      };
    }
    try {
      const report = await this.#restore(
        point,
        `run #${this.input.runId} ended ${status}${why ? `: ${why}` : ''}`,
      );
      this.input.output(`\nrolled back to ${point}: ${describe(report)}\n`);
      return { point, report };
    } catch (err) {
      this.input.logger.error({ err, point }, 'automatic rollback failed');
      return { point, error: `automatic rollback to ${point} failed: ${(err as Error).message}` };
    }
  }
}

export function describe(r: RestoreReport): string {
  return `${r.restored.length} restored, ${r.deleted.length} deleted, ${r.unchanged} unchanged${r.preRollbackPoint ? ` (undo with caretaker rollback ${r.preRollbackPoint})` : ''}`;
}
