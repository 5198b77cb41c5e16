/**
 * `rotate-logs`: logrotate's semantics without its sharp edges. The parts live in rotate-logs/:
 * schema (options), collect (which logs, safely), rotation-due (when), plan-log / build-plan
 * (what, as logrotate would), journal + execute-plan (doing it so that a crash at any point is
 * finished by the next run), compress-step + gzip-* (parallel gzip), copy-truncate, move-steps.
 */
import { plural } from '../core/plural.js';
import { formatSize } from '../core/size.js';
import { PathGuard, UnsafePathError } from '../safety/path-guard.js';
import {
  assemblePlan,
  familyBytesNow,
  logsRotatedBy,
  planOne,
  type PlannedLog,
} from './rotate-logs/build-plan.js';
import { collectLogs } from './rotate-logs/collect.js';
import { executePlan, newTally, type Tally } from './rotate-logs/execute-plan.js';
import { Journal } from './rotate-logs/journal.js';
import { rotationDue } from './rotate-logs/rotation-due.js';
import { rotateLogsDeclaration } from './rotate-logs/declaration.js';
import { resolveRotate, type ResolvedRotate } from './rotate-logs/schema.js';
import { RotationState } from './rotate-logs/state-file.js';
import { describeStep, type Plan } from './rotate-logs/steps.js';
import { lockRotation, RotationBusyError } from './rotate-logs/task-lock.js';
import type { ActionContext, ActionResult } from './types.js';
import { defineAction } from './types.js';

function planLines(plan: Plan): string[] {
  return plan.stages.flatMap((s) => s.lanes.flatMap((lane) => lane.map((st) => describeStep(st))));
}

function pendingLines(state: Awaited<ReturnType<typeof Journal.load>>): string[] {
  if (!state) return [];
  return state.plan.stages.flatMap((s) =>
    s.lanes.flatMap((lane) =>
      lane
        .filter((st) => !state.done.has(st.id) && !state.skipped.has(st.id))
        .map((st) => `finish the interrupted rotation: ${describeStep(st)}`),
    ),
  );
}

/** Runs the steps; if they stop early (timeout, cancel), the journal stays for the next run. */
async function runJournaled(journal: Journal, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (err) {
    await journal.close();
    throw err;
  }
}

function settle(state: RotationState, t: Tally): void {
  state.settle(
    t.compressed.map((c) => c.src),
    t.deferred.map((d) => d.path),
  );
}

function bytesFreed(t: Tally): number {
  let freed = 0;
  for (const d of t.deleted) freed += d.bytes;
  for (const c of t.compressed) freed += Math.max(0, c.bytesIn - c.bytesOut);
  return freed;
}

async function rotate(ctx: ActionContext, o: ResolvedRotate): Promise<ActionResult> {
  const guard = new PathGuard({ stateDir: ctx.stateDir });
  const now = ctx.clock.now();
  const force = ctx.trigger === 'manual';
  const lookup = { signal: ctx.signal, clock: ctx.clock, killGraceMs: ctx.killGraceMs };
  const pattern = o.paths.map((p) => ctx.resolvePath(p)).join(' ');
  const tally = newTally();
  const execCtx = (journal: Journal, replaying: boolean) => ({
    journal,
    replaying,
    signal: ctx.signal,
    clock: ctx.clock,
    killGraceMs: ctx.killGraceMs,
    cwd: ctx.baseDir,
    threads: o.compressThreads,
    logger: ctx.logger,
    output: (t: string) => ctx.output(t),
    progress: ctx.progress,
  });

  // 1. An interrupted rotation is finished before anything else is decided.
  const interrupted = await Journal.load(ctx.taskStateDir);
  let recovered = 0;
  /** Logs the interrupted run had (now) rotated: not rotated a second time in this run. */
  const justRotated = new Set<string>();
  if (interrupted && !ctx.dryRun) {
    const pending = pendingLines(interrupted).length;
    ctx.output(`finishing an interrupted rotation (${pending} steps left)\n`);
    const journal = await Journal.resume(ctx.taskStateDir, interrupted);
    await runJournaled(journal, () => executePlan(interrupted.plan, execCtx(journal, true), tally));
    const state = await RotationState.load(ctx.taskStateDir);
    for (const log of logsRotatedBy(interrupted.plan, journal.state.done)) {
      state.set(log, interrupted.plan.createdAt);
      justRotated.add(log);
    }
    settle(state, tally);
    await state.save();
    await journal.finish(ctx.taskStateDir);
    recovered = pending;
  }

  // 2. Which logs, and which of them are due.
  const collected = await collectLogs(o, ctx.baseDir, guard);
  tally.warnings.push(...collected.warnings);
  const state = await RotationState.load(ctx.taskStateDir);
  const due: PlannedLog[] = [];
  const notDue: { log: string; why: string }[] = [];
  for (const c of collected.logs) {
    if (justRotated.has(c.log)) {
      notDue.push({ log: c.log, why: 'just rotated by the interrupted run this one finished' });
      continue;
    }
    const last = state.lastRotated(c.log);
    const d = rotationDue(o, { size: c.entry.size, lastRotated: last, now, force });
    if (!d.due) {
      notDue.push({ log: c.log, why: d.why });
      if (last === undefined && o.frequency !== undefined && !ctx.dryRun) state.set(c.log, now);
      continue;
    }
    due.push(await planOne(c, o, now, lookup, state.pending()));
  }
  for (const p of due) {
    tally.warnings.push(...p.plan.warnings);
    if (p.plan.blocked) tally.warnings.push(`${p.candidate.log}: ${p.plan.blocked}`);
  }
  const plan = assemblePlan(due, o, now, pattern);
  const planned = due.filter((p) => !p.plan.blocked);

  if (ctx.dryRun) {
    const steps = [...pendingLines(interrupted), ...planLines(plan)];
    return {
      ok: true,
      changed: false,
      summary:
        planned.length === 0
          ? `nothing to rotate (${plural(collected.logs.length, 'log')} checked)`
          : `would rotate ${planned.length} of ${plural(collected.logs.length, 'log')} in ${plural(steps.length, 'step')}`,
      plan: steps,
      warnings: tally.warnings.length > 0 ? tally.warnings : undefined,
      details: {
        due: planned.map((p) => p.candidate.log),
        notDue,
        ignored: collected.ignored,
        interruptedSteps: pendingLines(interrupted).length,
      },
    };
  }

  // 3. Journal, then the steps.
  const bytesBefore = planned.reduce((n, p) => n + p.familyBytes, 0);
  if (plan.stages.length > 0) {
    const journal = await Journal.begin(ctx.taskStateDir, plan);
    await runJournaled(journal, () => executePlan(plan, execCtx(journal, false), tally));
    for (const p of planned) if (tally.rotated.has(p.candidate.log)) state.set(p.candidate.log, now);
    settle(state, tally);
    await state.save();
    await journal.finish(ctx.taskStateDir);
  } else {
    await state.save();
  }
  let bytesAfter = 0;
  for (const p of planned) bytesAfter += await familyBytesNow(p);

  const rotated = [...tally.rotated].sort();
  const freed = bytesFreed(tally);
  const compressedIn = tally.compressed.reduce((n, c) => n + c.bytesIn, 0);
  const compressedOut = tally.compressed.reduce((n, c) => n + c.bytesOut, 0);
  const parts = [
    rotated.length === 0
      ? `nothing rotated (${plural(collected.logs.length, 'log')} checked)`
      : `rotated ${plural(rotated.length, 'log')}`,
  ];
  if (tally.compressed.length > 0)
    parts.push(
      `compressed ${tally.compressed.length} (${formatSize(compressedIn)} -> ${formatSize(compressedOut)})`,
    );
  if (tally.deleted.length > 0) parts.push(`deleted ${tally.deleted.length} old`);
  if (rotated.length > 0)
    parts.push(`logs and generations ${formatSize(bytesBefore)} -> ${formatSize(bytesAfter)}`);
  if (freed > 0) parts.push(`freed ${formatSize(freed)}`);
  if (recovered > 0) parts.push(`finished ${recovered} steps of an interrupted rotation`);
  if (tally.errors.length > 0) parts.unshift(tally.errors.join('; '));
  return {
    ok: tally.errors.length === 0,
    changed: rotated.length > 0 || tally.compressed.length > 0 || tally.deleted.length > 0 || recovered > 0,
    summary: parts.join(', '),
    warnings: tally.warnings.length > 0 ? tally.warnings : undefined,
    bytesFreed: freed,
    filesModified: rotated.length + tally.compressed.length + tally.deleted.length,
    details: {
      rotated,
      notDue,
      ignored: collected.ignored,
      compressed: tally.compressed,
      deleted: tally.deleted,
      deferred: tally.deferred,
      copytruncate: tally.copytruncate,
      nulHoles: tally.nulHoles,
      lateBytesSaved: tally.lateBytes,
      bytesBefore,
      bytesAfter,
      bytesFreed: freed,
      recoveredSteps: recovered,
    },
  };
}

export const rotateLogsAction = defineAction({
  ...rotateLogsDeclaration,
  async run(ctx, options) {
    const o = resolveRotate(options, ctx.resolvePath);
    let release: (() => Promise<void>) | undefined;
    try {
      if (!ctx.dryRun) release = await lockRotation(ctx.taskStateDir);
      return await rotate(ctx, o);
    } catch (err) {
      if (err instanceof UnsafePathError || err instanceof RotationBusyError)
        return { ok: false, summary: err.message, changed: false };
      throw err;
    } finally {
      await release?.();
    }
  },
});
