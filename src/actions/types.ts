/**
 * The seam between the engine and the work: an action is `{ name, schema, run(ctx, options) }`.
 * Actions know nothing of the scheduler or the store; everything they may use comes in `ctx`.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Dataset } from '../core/dataset.js';
import type { Category } from '../core/priority.js';
import type { SamplePoint } from '../core/sample.js';
import type { ActionResult, Progress } from '../core/action-result.js';

export type { ActionAlert, ActionResult, Finding, Progress } from '../core/action-result.js';
import type { RestoreReport } from '../safety/rollback-restore.js';

/** Read-only view of this task's own past runs (newest first), e.g. for flaky-test detection. */
export interface TaskHistory {
  recent(limit: number): Promise<readonly PastRun[]>;
}

export interface PastRun {
  readonly id: number;
  readonly status: string;
  readonly startedAt: number | null;
  readonly durationMs: number | null;
  readonly result: ActionResult | null;
}

/** Read-only view of this task's recorded samples (health values), for trends and forecasts. */
export interface SampleHistory {
  /** One key's values since `since` (epoch ms), oldest first. */
  series(key: string, since: number): Promise<readonly SamplePoint[]>;
}

/** caretaker's own records as tables (run history, metrics), for the `export` action. */
export interface DatasetSource {
  get(name: 'history' | 'metrics', opts: { days: number }): Promise<Dataset>;
}

export interface GuardOptions<T> {
  /** Keep the change? Called with what the change returned; false restores the files. @default keep */
  keep?(value: T): boolean | Promise<boolean>;
  /** A few words shown by `caretaker list-rollbacks`. */
  label?: string;
}

/** What `withRollbackPoint` did. */
export interface GuardedChange<T> {
  readonly value: T;
  /** false: the files were restored to the point. */
  readonly kept: boolean;
  /** The point taken before the change (it stays, so a kept change can still be rolled back). */
  readonly point: string;
  /** Set when the change was rolled back. */
  readonly restore?: RestoreReport;
}

/** What started a run: its schedule, a catch-up after downtime, a person (`run-task`), a retry. */
export type RunTriggerKind = 'schedule' | 'catch-up' | 'manual' | 'retry' | 'rollback' | 'restore';

export interface ActionContext {
  readonly taskId: string;
  readonly runId: number;
  readonly attempt: number;
  /**
   * What started this run. A `manual` run is someone asking for the work now: actions with their
   * own "is it due?" rules (rotate-logs' frequency) act regardless, like `logrotate -f`. Absent
   * when an action is called outside the engine.
   */
  readonly trigger?: RunTriggerKind;
  readonly host: string;
  readonly logger: Logger;
  /** Aborted on timeout, cancellation and shutdown: stop soon and clean up. */
  readonly signal: AbortSignal;
  /** Report exactly what would be done (files, bytes, keys, rows) and change nothing. */
  readonly dryRun: boolean;
  readonly clock: Clock;
  /** The config file's directory: relative paths in options resolve against it. */
  readonly baseDir: string;
  /** caretaker's state dir. File actions must refuse it as a target. */
  readonly stateDir: string;
  /** A directory this task may keep its own state in (created on first use by the action). */
  readonly taskStateDir: string;
  /** After a timeout or abort, how long a child process gets between SIGTERM and SIGKILL. */
  readonly killGraceMs: number;
  /** Captured output of the run (the tail is kept in history). */
  output(text: string): void;
  progress(p: Progress): void;
  /**
   * Takes a rollback point of these paths before they are modified. A task without rollback
   * configured gets a hook that records nothing.
   */
  snapshot(paths: readonly string[]): Promise<void>;
  /**
   * Runs `change` inside a rollback point of `paths` (files, directories, globs; relative to
   * `baseDir`), whether or not the task has `rollback:` configured. When `change` throws, or
   * `keep(value)` says no, the files are restored (and created files deleted) before this
   * returns or rethrows. Not available in a dry run: plan instead.
   */
  withRollbackPoint<T>(
    paths: readonly string[],
    change: () => Promise<T>,
    opts?: GuardOptions<T>,
  ): Promise<GuardedChange<T>>;
  readonly history: TaskHistory;
  /**
   * Tells caretaker the process group a long-running command was started in, so that if
   * caretaker itself dies, the next start can end the orphan instead of running beside it.
   * Pass it as `onStart` to runInProcessGroup().
   */
  trackProcess(pgid: number): void;
  /** Resolves a path from the options against `baseDir`. */
  resolvePath(p: string): string;
  /** This task's recorded samples (absent when the action runs outside an engine). */
  readonly samples?: SampleHistory;
  /** Run history and metrics as tables (absent when the action runs outside an engine). */
  readonly datasets?: DatasetSource;
}

export interface Action<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** One line, shown by `caretaker init` and the docs. */
  readonly description: string;
  /** Validates and parses the task's `with:` options. */
  readonly schema: Schema;
  /** The category a task of this action gets when it does not name one. */
  readonly category?: Category;
  /**
   * Paths (files, directories, globs) the action may modify with these options: what
   * `rollback: true` takes a point of. `[]`: it changes no files with these options. `undefined`
   * (or no hook): it cannot know (a command, a module), so the config must name the paths in
   * `rollback: { paths }`. Every built-in action has the hook (test/actions/declared-paths.test.ts).
   */
  modifies?(options: z.output<Schema>, resolvePath: (p: string) => string): readonly string[] | undefined;
  /**
   * The roots the action acts on, checked by the PathGuard when the config is loaded (so
   * `caretaker validate` refuses `/`, the home directory, the state dir, a link to one of them,
   * and a root that is a link where the action does not follow one) — and again at run time.
   */
  targets?(options: z.output<Schema>, resolvePath: (p: string) => string): readonly ActionTarget[];
  run(ctx: ActionContext, options: z.output<Schema>): Promise<ActionResult>;
  /**
   * For actions made of other actions (`runbook`): called when the action is registered, returns
   * the action bound to the registry, so that its schema can check each step with that step's own
   * action and its run can call them.
   */
  bind?(actions: ActionLookup): AnyAction;
}

/** A root an action acts on, with where its options name it. */
export interface ActionTarget {
  /** Where below `with:` it is written, e.g. ['paths', 0]: config errors point there. */
  readonly key: readonly (string | number)[];
  /** The directory (or file) acted on, absolute (through the hook's `resolvePath`). */
  readonly path: string;
  /** See RootRule in safety/path-guard.ts. @default follow, target */
  readonly links?: 'refuse' | 'follow';
  readonly role?: 'target' | 'source';
}

/** Read access to the registered actions. */
export interface ActionLookup {
  get(name: string): AnyAction | undefined;
  names(): string[];
}

/** Keeps an action's options typed from its schema without repeating the type. */
export function defineAction<Schema extends z.ZodType>(action: Action<Schema>): Action<Schema> {
  return action;
}

// The registry stores actions of any schema; `run` receives what the schema parsed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAction = Action<any>;
