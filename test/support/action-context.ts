/**
 * Runs an action directly, the way the engine would: a real ActionContext over a temp dir, a
 * silent logger, the system clock unless the test passes a manual one, and the output, progress
 * and parsed options captured for assertions.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import type {
  ActionContext,
  ActionResult,
  AnyAction,
  Progress,
  RunTriggerKind,
  SampleHistory,
} from '../../src/actions/types.js';
import type { Clock } from '../../src/core/clock.js';
import { SystemClock } from '../../src/engine/clock.js';
import { errorMap } from '../../src/config/zod-issues.js';

export interface ActionRun {
  readonly result: ActionResult;
  readonly output: string;
  readonly progress: Progress[];
}

export interface RunOptions {
  readonly baseDir: string;
  readonly dryRun?: boolean;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  /** Default: <baseDir>/.caretaker */
  readonly stateDir?: string;
  /** Default: test-task */
  readonly taskId?: string;
  readonly trigger?: RunTriggerKind;
  /** Default: 1 */
  readonly runId?: number;
}

export function makeContext(
  opts: RunOptions,
  sink: { output: string[]; progress: Progress[] } = { output: [], progress: [] },
): ActionContext {
  const stateDir = opts.stateDir ?? join(opts.baseDir, '.caretaker');
  const taskId = opts.taskId ?? 'test-task';
  mkdirSync(stateDir, { recursive: true });
  return {
    taskId,
    trigger: opts.trigger,
    runId: opts.runId ?? 1,
    attempt: 1,
    host: 'test-host',
    logger: pino({ level: 'silent' }),
    signal: opts.signal ?? new AbortController().signal,
    dryRun: opts.dryRun ?? false,
    clock: opts.clock ?? new SystemClock(),
    baseDir: opts.baseDir,
    stateDir,
    taskStateDir: join(stateDir, 'tasks', taskId),
    killGraceMs: 2_000,
    output: (t) => void sink.output.push(t),
    progress: (p) => void sink.progress.push(p),
    snapshot: async () => {},
    history: { recent: () => Promise.resolve([]) },
    trackProcess: () => {},
    // Rollback points need the engine's run (see test/rollback/ and the engine harness).
    withRollbackPoint: () =>
      Promise.reject(new Error('rollback points are not available when an action is called directly')),
    resolvePath: (p) => resolve(opts.baseDir, p),
  };
}

/** Parses `options` with the action's schema (as the config loader does), then runs it. */
export async function runAction(action: AnyAction, options: unknown, opts: RunOptions): Promise<ActionRun> {
  const parsed = parseOptions(action, options);
  const sink = { output: [] as string[], progress: [] as Progress[] };
  const result = await action.run(makeContext(opts, sink), parsed);
  return { result, output: sink.output.join(''), progress: sink.progress };
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

/** A context for calling one action directly, with its output readable as text. */
export interface Ctx extends ActionContext {
  readonly outputText: () => string;
}

export function actionContext(
  dir: string,
  opts: { clock?: Clock; dryRun?: boolean; samples?: SampleHistory; signal?: AbortSignal } = {},
): Ctx {
  const sink = { output: [] as string[], progress: [] as Progress[] };
  return {
    ...makeContext({ baseDir: dir, clock: opts.clock, dryRun: opts.dryRun, signal: opts.signal }, sink),
    samples: opts.samples,
    outputText: () => sink.output.join(''),
  };
}

/** Validates `options` with the action's schema (as the config loader would) and runs it. */
export async function runWithContext(
  action: AnyAction,
  options: unknown,
  ctx: ActionContext,
): Promise<ActionResult> {
  return action.run(ctx, action.schema.parse(options));
}
