/**
 * The one way a test runs an action directly, the way the engine would: options parsed by the
 * action's schema (as the config loader does), a real ActionContext over a temp dir (state dir,
 * task state dir, path resolution), a logger whose records the test can read, the system clock
 * unless the test passes a ManualClock (drive it with clock-driver.ts), and the dry-run flag.
 * Output, progress and log records are captured for assertions.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import type {
  ActionContext,
  ActionResult,
  AnyAction,
  PastRun,
  Progress,
  RunTriggerKind,
  SampleHistory,
} from '../../src/actions/types.js';
import type { Clock } from '../../src/core/clock.js';
import { SystemClock } from '../../src/engine/clock.js';
import { errorMap } from '../../src/schema/zod-issues.js';

export interface RunOptions {
  readonly baseDir: string;
  /** @default false */
  readonly dryRun?: boolean;
  /** @default a SystemClock; pass a ManualClock to drive time */
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  /** @default <baseDir>/.caretaker */
  readonly stateDir?: string;
  /** @default test-task */
  readonly taskId?: string;
  readonly trigger?: RunTriggerKind;
  /** @default 1 */
  readonly runId?: number;
  /** The task's earlier runs, newest first (what ctx.history.recent() answers). */
  readonly history?: readonly PastRun[];
  readonly samples?: SampleHistory;
}

/** One pino record as the action logged it. */
export interface LogRecord {
  readonly level: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface ActionRun {
  readonly result: ActionResult;
  /** Everything the action passed to ctx.output(), joined. */
  readonly output: string;
  readonly progress: readonly Progress[];
  /** The log records, parsed (trace level and up). */
  readonly logs: () => LogRecord[];
}

/** A context for calling an action directly, with what it reported readable afterwards. */
export interface TestContext extends ActionContext {
  readonly outputText: () => string;
  readonly progressReports: readonly Progress[];
  readonly logs: () => LogRecord[];
}

export function actionContext(opts: RunOptions): TestContext {
  const stateDir = opts.stateDir ?? join(opts.baseDir, '.caretaker');
  const taskId = opts.taskId ?? 'test-task';
  mkdirSync(stateDir, { recursive: true });
  const output: string[] = [];
  const progress: Progress[] = [];
  const logLines: string[] = [];
  const history = opts.history ?? [];
  return {
    taskId,
    trigger: opts.trigger,
    runId: opts.runId ?? 1,
    attempt: 1,
    host: 'test-host',
    // A synchronous in-memory destination: records are there as soon as the call returns.
    logger: pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) }),
    signal: opts.signal ?? new AbortController().signal,
    dryRun: opts.dryRun ?? false,
    clock: opts.clock ?? new SystemClock(),
    baseDir: opts.baseDir,
    stateDir,
    taskStateDir: join(stateDir, 'tasks', taskId),
    killGraceMs: 2_000,
    output: (t) => void output.push(t),
    progress: (p) => void progress.push(p),
    snapshot: async () => {},
    history: { recent: (limit) => Promise.resolve(history.slice(0, limit)) },
    trackProcess: () => {},
    // Rollback points need the engine's run (see test/rollback/ and the engine harness).
    withRollbackPoint: () =>
      Promise.reject(new Error('rollback points are not available when an action is called directly')),
    resolvePath: (p) => resolve(opts.baseDir, p),
    samples: opts.samples,
    outputText: () => output.join(''),
    progressReports: progress,
    logs: () => logLines.map((l) => JSON.parse(l) as LogRecord),
  };
}

/** Parses `options` with the action's schema (throws on invalid options), then runs it. */
export async function runAction(action: AnyAction, options: unknown, opts: RunOptions): Promise<ActionRun> {
  const parsed = parseOptions(action, options);
  const ctx = actionContext(opts);
  const result = await action.run(ctx, parsed);
  return { result, output: ctx.outputText(), progress: ctx.progressReports, logs: ctx.logs };
}

export function parseOptions(action: AnyAction, options: unknown): unknown {
  const parsed = action.schema.safeParse(options, { error: errorMap });
  if (!parsed.success) {
    throw new Error(
      `invalid options: ${parsed.error.issues.map((i: { path: PropertyKey[]; message: string }) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** The first schema error for `options`, as "path: message" (undefined when they are valid). */
export function optionsError(action: AnyAction, options: unknown): string | undefined {
  const parsed = action.schema.safeParse(options, { error: errorMap });
  if (parsed.success) return undefined;
  const i = parsed.error.issues[0]!;
  return `${i.path.join('.')}: ${i.message}`;
}
