/**
 * `rolling-restart`: recycles long-running instances one at a time — stop, start, wait until
 * healthy, settle, next — so the service never loses more than one instance. When one does not
 * come back healthy the rollout stops there: the instances after it are left untouched and the
 * run fails, which is what the alerting layer (notify on failure) reacts to.
 */
import type { z } from 'zod';
import { formatDuration } from '../core/duration.js';
import { plural } from '../core/plural.js';
import { formatSize } from '../core/size.js';
import { sleepOn } from './clock-sleep.js';
import { waitHealthy, type HealthCheck } from './process/health-probe.js';
import { rssFromPidFile } from './process/process-rss.js';
import { runInProcessGroup } from '../os/process-group.js';
import { defineAction, type ActionContext, type ActionResult } from './types.js';
import { rollingRestartDeclaration } from './rolling-restart/declaration.js';
import type { schema } from './rolling-restart/schema.js';
import { deadlineSignal } from '../os/deadline-signal.js';

type Options = z.output<typeof schema>;
type Instance = Options['instances'][number];

type Status = 'restarted' | 'skipped' | 'failed' | 'untouched';
interface InstanceReport {
  name: string;
  status: Status;
  reason?: string;
  rssBytes?: number;
  healthyAfterMs?: number;
}

const shown = (c: string | readonly string[]) => (typeof c === 'string' ? c : c.join(' '));

export const rollingRestartAction = defineAction({
  ...rollingRestartDeclaration,
  async run(ctx, o) {
    // Decide first which instances to recycle (only_if), so the plan and the run agree.
    const decisions: InstanceReport[] = [];
    const warnings: string[] = [];
    for (const inst of o.instances) decisions.push(await decide(ctx, o, inst, warnings));
    if (ctx.dryRun) return plan(o, decisions, warnings);
    return rollout(ctx, o, decisions, warnings);
  },
});

async function decide(
  ctx: ActionContext,
  o: Options,
  inst: Instance,
  warnings: string[],
): Promise<InstanceReport> {
  if (!o.only_if) return { name: inst.name, status: 'untouched' };
  const r = await rssFromPidFile(ctx.resolvePath(inst.pid_file!));
  if (!r.ok) {
    warnings.push(`${inst.name} left alone: ${r.reason}`);
    return { name: inst.name, status: 'skipped', reason: r.reason };
  }
  if (r.rssBytes <= o.only_if.rss_over) {
    const reason = `RSS ${formatSize(r.rssBytes)} is under ${formatSize(o.only_if.rss_over)}`;
    return { name: inst.name, status: 'skipped', reason, rssBytes: r.rssBytes };
  }
  const reason = `RSS ${formatSize(r.rssBytes)} is over ${formatSize(o.only_if.rss_over)}`;
  return { name: inst.name, status: 'untouched', reason, rssBytes: r.rssBytes };
}

function healthOf(ctx: ActionContext, o: Options, inst: Instance): HealthCheck {
  if (inst.health_url !== undefined) return { kind: 'url', url: inst.health_url };
  return {
    kind: 'command',
    command: inst.health_command!,
    cwd: ctx.resolvePath(o.cwd ?? '.'),
    env: envFor(o, inst),
  };
}

function envFor(o: Options, inst: Instance): NodeJS.ProcessEnv {
  return { ...process.env, ...o.env, CARETAKER_INSTANCE: inst.name };
}

function plan(o: Options, decisions: InstanceReport[], warnings: string[]): ActionResult {
  const steps: string[] = [];
  const chosen = decisions.filter((d) => d.status === 'untouched');
  o.instances.forEach((inst, i) => {
    const d = decisions[i]!;
    if (d.status === 'skipped') {
      steps.push(`${inst.name}: left alone (${d.reason})`);
      return;
    }
    const health = inst.health_url ?? `\`${shown(inst.health_command!)}\` exits 0`;
    const settle = inst.settle ?? o.settle ?? 10_000;
    const last = chosen[chosen.length - 1]?.name === inst.name;
    steps.push(
      `${inst.name}${d.reason ? ` (${d.reason})` : ''}: stop \`${shown(inst.stop)}\`, start \`${shown(inst.start)}\`, ` +
        `wait up to ${formatDuration(inst.health_timeout ?? o.health_timeout ?? 60_000)} for ${health}` +
        (last ? '' : `, settle ${formatDuration(settle)}`),
    );
  });
  return {
    ok: true,
    summary: `would recycle ${chosen.length} of ${plural(o.instances.length, 'instance')} one at a time: ${chosen.map((d) => d.name).join(', ') || 'none'}`,
    changed: false,
    plan: steps,
    warnings: warnings.length > 0 ? warnings : undefined,
    details: { instances: decisions },
  };
}

async function runStep(
  ctx: ActionContext,
  o: Options,
  inst: Instance,
  which: 'stop' | 'start',
): Promise<string | undefined> {
  const timeoutMs = o.command_timeout ?? 120_000;
  // A real process is bounded in real time; the run clock paces only caretaker's own waits.
  const limit = deadlineSignal(ctx.signal, timeoutMs);
  const r = await runInProcessGroup({
    command: inst[which],
    cwd: ctx.resolvePath(o.cwd ?? '.'),
    env: envFor(o, inst),
    signal: limit.signal,
    killGraceMs: ctx.killGraceMs,
    clock: ctx.clock,
    onOutput: (t) => ctx.output(t),
  }).finally(() => limit.done());
  if (r.spawnError) return r.spawnError;
  if (r.exitCode === 0) return undefined;
  if (limit.signal.aborted && !ctx.signal.aborted)
    return `${which} did not finish within ${formatDuration(timeoutMs)}`;
  return r.exitCode === null
    ? `${which} was killed by ${r.signal ?? 'a signal'}`
    : `${which} exited ${r.exitCode}`;
}

async function rollout(
  ctx: ActionContext,
  o: Options,
  reports: InstanceReport[],
  warnings: string[],
): Promise<ActionResult> {
  const chosen = o.instances.filter((_, i) => reports[i]!.status === 'untouched');
  let failedAt: InstanceReport | undefined;
  for (const [n, inst] of chosen.entries()) {
    const report = reports.find((r) => r.name === inst.name)!;
    if (ctx.signal.aborted) break;
    ctx.output(`${inst.name}: stopping\n`);
    let why = await runStep(ctx, o, inst, 'stop');
    if (why === undefined) {
      ctx.output(`${inst.name}: starting\n`);
      why = await runStep(ctx, o, inst, 'start');
    }
    if (why === undefined) {
      const timeoutMs = inst.health_timeout ?? o.health_timeout ?? 60_000;
      const waited = await waitHealthy(healthOf(ctx, o, inst), {
        clock: ctx.clock,
        signal: ctx.signal,
        killGraceMs: ctx.killGraceMs,
        timeoutMs,
        intervalMs: o.health_interval ?? 1_000,
        probeTimeoutMs: Math.min(timeoutMs, 10_000),
      });
      if (waited.healthy) report.healthyAfterMs = waited.waitedMs;
      else why = `not healthy within ${formatDuration(timeoutMs)} (last probe: ${waited.last ?? 'stopped'})`;
    }
    if (why !== undefined) {
      report.status = 'failed';
      report.reason = why;
      failedAt = report;
      break;
    }
    report.status = 'restarted';
    ctx.output(`${inst.name}: healthy after ${formatDuration(report.healthyAfterMs ?? 0)}\n`);
    ctx.progress({ done: n + 1, total: chosen.length, unit: 'items', label: inst.name });
    if (n < chosen.length - 1) await sleepOn(ctx.clock, inst.settle ?? o.settle ?? 10_000, ctx.signal);
  }
  const names = (s: Status) => reports.filter((r) => r.status === s).map((r) => r.name);
  const restarted = names('restarted');
  const untouched = names('untouched');
  const details = { instances: reports, stoppedAt: failedAt?.name ?? null };
  if (failedAt || ctx.signal.aborted) {
    const what = failedAt ? `${failedAt.name} ${failedAt.reason}` : 'the run was stopped';
    return {
      ok: false,
      summary:
        `rollout stopped: ${what}` +
        `; restarted: ${restarted.join(', ') || 'none'}; left untouched: ${untouched.join(', ') || 'none'}`,
      changed: restarted.length > 0 || failedAt !== undefined,
      warnings: warnings.length > 0 ? warnings : undefined,
      details,
    };
  }
  const skipped = names('skipped');
  return {
    ok: true,
    summary:
      `restarted ${restarted.length} of ${plural(o.instances.length, 'instance')} one at a time` +
      (restarted.length > 0 ? `: ${restarted.join(', ')}` : '') +
      (skipped.length > 0 ? `; left alone: ${skipped.join(', ')}` : ''),
    changed: restarted.length > 0,
    warnings: warnings.length > 0 ? warnings : undefined,
    details,
  };
}
