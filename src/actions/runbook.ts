/**
 * `runbook`: ordered steps, each an action, each with an optional `undo` action. Steps run in
 * order; when one fails, the steps already done are undone in reverse order. The result records
 * every step's outcome and every undo's. A dry run prints the plan and runs each step's own dry run.
 */
import { formatDuration } from '../core/duration.js';
import { boundRunbookDeclaration, runbookDeclaration } from './runbook/declaration.js';
import type { BoundAction, RunbookOptions } from './runbook-steps.js';
import {
  defineAction,
  type ActionContext,
  type ActionLookup,
  type ActionResult,
  type AnyAction,
} from './types.js';

export type StepStatus = 'ok' | 'failed' | 'not run';
export type UndoStatus = 'ok' | 'failed' | 'none' | 'not needed';

export interface StepOutcome {
  readonly name: string;
  readonly action: string;
  readonly status: StepStatus;
  readonly summary: string | null;
  readonly durationMs: number | null;
  readonly exitCode?: number | null;
  readonly undo: {
    readonly action: string | null;
    readonly status: UndoStatus;
    readonly summary: string | null;
    readonly durationMs: number | null;
  };
}

interface Outcome {
  readonly result: ActionResult;
  readonly durationMs: number;
}

/** Runs one bound action with its own logger label, step timeout and (for undos) its own signal. */
async function runChild(
  ctx: ActionContext,
  bound: BoundAction,
  label: string,
  signal: AbortSignal,
  dryRun = ctx.dryRun,
): Promise<Outcome> {
  const started = ctx.clock.now();
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer =
    bound.timeoutMs === null
      ? null
      : ctx.clock.setTimer(() => {
          timedOut = true;
          controller.abort(new Error(`${label} timed out`));
        }, bound.timeoutMs);
  const child: ActionContext = {
    ...ctx,
    dryRun,
    signal: controller.signal,
    logger: ctx.logger.child({ step: label }),
    snapshot: (paths) => ctx.snapshot(paths),
    withRollbackPoint: (paths, change, opts) => ctx.withRollbackPoint(paths, change, opts),
    output: (text) => ctx.output(text),
    progress: (p) => ctx.progress(p),
    resolvePath: (p) => ctx.resolvePath(p),
  };
  let result: ActionResult;
  try {
    result = await bound.action.run(child, bound.options);
  } catch (err) {
    result = { ok: false, summary: (err as Error).message.split('\n')[0] ?? String(err) };
  } finally {
    if (timer) ctx.clock.clearTimer(timer);
    signal.removeEventListener('abort', onAbort);
  }
  if (timedOut) {
    result = {
      ...result,
      ok: false,
      summary: `timed out after ${formatDuration(bound.timeoutMs!)}: ${result.summary}`,
    };
  }
  return { result, durationMs: ctx.clock.now() - started };
}

/**
 * Undos must get to run after a timeout or cancellation too: they get a signal of their own that
 * follows the run's only after the kill grace, when the engine stops waiting anyway.
 */
function undoSignal(ctx: ActionContext): AbortSignal {
  const controller = new AbortController();
  const later = () => ctx.clock.setTimer(() => controller.abort(ctx.signal.reason), ctx.killGraceMs);
  if (ctx.signal.aborted) later();
  else ctx.signal.addEventListener('abort', later, { once: true });
  return controller.signal;
}

async function dryRunPlan(ctx: ActionContext, o: RunbookOptions): Promise<ActionResult> {
  const plan: string[] = [];
  const warnings: string[] = [];
  const n = o.steps.length;
  for (const [i, step] of o.steps.entries()) {
    const label = `step ${i + 1}/${n} ${step.name}`;
    const { result } = await runChild(ctx, step, label, ctx.signal, true);
    plan.push(`${label} (${step.action.name}): ${result.summary}`);
    for (const line of result.plan ?? []) plan.push(`  ${line}`);
    if (!result.ok) warnings.push(`${label}: its dry run reports a problem: ${result.summary}`);
    if (step.undo) {
      const undo = await runChild(ctx, step.undo, `undo of ${label}`, ctx.signal, true);
      plan.push(`  if a later step fails, undo with ${step.undo.action.name}: ${undo.result.summary}`);
      for (const line of undo.result.plan ?? []) plan.push(`    ${line}`);
    }
  }
  return {
    ok: true,
    summary: `would run ${n} step${n === 1 ? '' : 's'}, undoing the completed ones in reverse if one fails`,
    changed: false,
    plan,
    warnings: warnings.length > 0 ? warnings : undefined,
  };
}

async function execute(ctx: ActionContext, o: RunbookOptions): Promise<ActionResult> {
  if (ctx.dryRun) return dryRunPlan(ctx, o);
  const n = o.steps.length;
  const outcomes: StepOutcome[] = o.steps.map((s) => ({
    name: s.name,
    action: s.action.name,
    status: 'not run',
    summary: null,
    durationMs: null,
    undo: {
      action: s.undo?.action.name ?? null,
      status: s.undo ? 'not needed' : 'none',
      summary: null,
      durationMs: null,
    },
  }));
  const warnings: string[] = [];
  let failed: number | null = null;
  let changed = false;
  let filesModified = 0;
  let bytesFreed = 0;
  let exitCode: number | null | undefined;
  for (const [i, step] of o.steps.entries()) {
    const label = `step ${i + 1}/${n} ${step.name}`;
    ctx.output(`== ${label} (${step.action.name}) ==\n`);
    const { result, durationMs } = ctx.signal.aborted
      ? { result: { ok: false, summary: `not started: the run was stopped` }, durationMs: 0 }
      : await runChild(ctx, step, label, ctx.signal);
    outcomes[i] = {
      ...outcomes[i]!,
      status: result.ok ? 'ok' : 'failed',
      summary: result.summary,
      durationMs,
      exitCode: result.exitCode,
    };
    changed ||= result.changed ?? false;
    filesModified += result.filesModified ?? 0;
    bytesFreed += result.bytesFreed ?? 0;
    for (const w of result.warnings ?? []) warnings.push(`${label}: ${w}`);
    ctx.output(`-- ${label}: ${result.ok ? 'ok' : 'FAILED'}: ${result.summary}\n`);
    if (!result.ok) {
      failed = i;
      exitCode = result.exitCode;
      break;
    }
  }
  if (failed === null) {
    return {
      ok: true,
      summary: `${n} step${n === 1 ? '' : 's'} done`,
      changed,
      filesModified,
      bytesFreed,
      warnings: warnings.length > 0 ? warnings : undefined,
      details: { steps: outcomes, failedStep: null },
    };
  }

  const signal = undoSignal(ctx);
  let undone = 0;
  const undoFailures: string[] = [];
  for (let i = failed - 1; i >= 0; i--) {
    const step = o.steps[i]!;
    if (!step.undo) continue;
    const label = `undo of step ${i + 1}/${n} ${step.name}`;
    ctx.output(`== ${label} (${step.undo.action.name}) ==\n`);
    const { result, durationMs } = await runChild(ctx, step.undo, label, signal);
    outcomes[i] = {
      ...outcomes[i]!,
      undo: {
        action: step.undo.action.name,
        status: result.ok ? 'ok' : 'failed',
        summary: result.summary,
        durationMs,
      },
    };
    ctx.output(`-- ${label}: ${result.ok ? 'ok' : 'FAILED'}: ${result.summary}\n`);
    if (result.ok) undone++;
    else
      undoFailures.push(
        `${label} failed (${result.summary}); step ${i + 1} "${step.name}" is still applied and needs a person`,
      );
  }
  const withoutUndo = o.steps.slice(0, failed).filter((s) => !s.undo).length;
  const failedStep = o.steps[failed]!;
  const parts = [`step ${failed + 1}/${n} ${failedStep.name} failed: ${outcomes[failed]!.summary}`];
  if (failed === 0) parts.push('nothing to undo');
  else {
    parts.push(`undid ${undone} of ${failed} completed step${failed === 1 ? '' : 's'}`);
    if (withoutUndo > 0) parts.push(`${withoutUndo} had no undo`);
  }
  if (undoFailures.length > 0)
    parts.push(`${undoFailures.length} undo${undoFailures.length === 1 ? '' : 's'} FAILED`);
  return {
    ok: false,
    summary: parts.join('; '),
    changed: true,
    exitCode,
    filesModified,
    bytesFreed,
    warnings: [...warnings, ...undoFailures].length > 0 ? [...warnings, ...undoFailures] : undefined,
    details: { steps: outcomes, failedStep: failed + 1 },
  };
}

/** The runbook bound to a registry: its schema checks steps against the registered actions. */
function boundRunbook(actions: ActionLookup): AnyAction {
  return defineAction({ ...boundRunbookDeclaration(actions), run: execute });
}

/** Registered like any action; the registry binds it (see `bind`) so steps can name any action. */
export const runbookAction = defineAction({
  ...runbookDeclaration,
  bind: boundRunbook,
  run() {
    return Promise.reject(new Error('the runbook action must be registered in an ActionRegistry before use'));
  },
});
