/**
 * A failing check's remedy (`on_fail: { run, max }`) — Monit's `then exec` with a brake: the
 * times it ran are kept in the task's state dir, and it does not run more than `max` times in
 * the window, so a remedy that does not help never loops.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../../core/duration.js';
import { writeFileAtomicSync } from '../../os/atomic-write.js';
import { runInProcessGroup } from '../../os/process-group.js';
import type { ActionContext } from '../types.js';
import type { Remedy } from './common-options.js';

const DEFAULT_MAX = { max: 3, perMs: 3_600_000 };

type Ledger = Record<string, number[]>;

function ledgerFile(ctx: ActionContext): string {
  return join(ctx.taskStateDir, 'remedies.json');
}

function readLedger(ctx: ActionContext): Ledger {
  try {
    return JSON.parse(readFileSync(ledgerFile(ctx), 'utf8')) as Ledger;
  } catch {
    return {};
  }
}

export interface RemedyOutcome {
  readonly ran: boolean;
  readonly ok?: boolean;
  readonly message: string;
}

export async function runRemedy(check: string, remedy: Remedy, ctx: ActionContext): Promise<RemedyOutcome> {
  const shown = typeof remedy.run === 'string' ? remedy.run : remedy.run.join(' ');
  const limit = remedy.max ?? DEFAULT_MAX;
  const now = ctx.clock.now();
  const ledger = readLedger(ctx);
  const recent = (ledger[check] ?? []).filter((t) => t > now - limit.perMs);
  if (recent.length >= limit.max) {
    return {
      ran: false,
      message: `remedy not run: it already ran ${recent.length} times in ${formatDuration(limit.perMs)} (max ${limit.max})`,
    };
  }
  if (ctx.dryRun) return { ran: false, message: `dry run: would run remedy \`${shown}\`` };
  // Recorded before it runs: a remedy that hangs or crashes caretaker still counts.
  ledger[check] = [...recent, now];
  writeFileAtomicSync(ledgerFile(ctx), JSON.stringify(ledger));
  const timeoutMs = remedy.timeout ?? 5 * 60_000;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timer = ctx.clock.setTimer(() => controller.abort(), timeoutMs);
  let out = '';
  try {
    const r = await runInProcessGroup({
      command: remedy.run,
      cwd: ctx.baseDir,
      env: { ...process.env, CARETAKER_TASK: ctx.taskId, CARETAKER_CHECK: check },
      signal: controller.signal,
      killGraceMs: ctx.killGraceMs,
      clock: ctx.clock,
      onOutput: (t) => (out = (out + t).slice(-4_096)),
    });
    ctx.output(`remedy for ${check}: ${shown}\n${out}`);
    if (r.spawnError) return { ran: true, ok: false, message: `remedy could not start: ${r.spawnError}` };
    if (r.aborted)
      return {
        ran: true,
        ok: false,
        message: `remedy \`${shown}\` did not finish within ${formatDuration(timeoutMs)}`,
      };
    return {
      ran: true,
      ok: r.exitCode === 0,
      message: `remedy \`${shown}\` ran: exit ${r.exitCode ?? r.signal}`,
    };
  } finally {
    ctx.clock.clearTimer(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
