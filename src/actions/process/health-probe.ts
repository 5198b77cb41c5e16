/**
 * "Is this instance healthy?" — an HTTP URL answering 2xx, or a command exiting 0 — and the wait
 * for it: probe, wait `interval` on the run clock, probe again, until healthy or `timeout`.
 */
import type { Clock } from '../../core/clock.js';
import { sleepOn } from '../clock-sleep.js';
import { runInProcessGroup } from '../../os/process-group.js';
import { deadlineSignal } from '../../os/deadline-signal.js';

export type HealthCheck =
  | { readonly kind: 'url'; readonly url: string }
  | {
      readonly kind: 'command';
      readonly command: string | readonly string[];
      readonly cwd: string;
      readonly env: NodeJS.ProcessEnv;
    };

export interface ProbeContext {
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly killGraceMs: number;
  /** The longest one probe may take. */
  readonly probeTimeoutMs: number;
}

/** One probe: undefined when healthy, else why not. */
export async function probe(check: HealthCheck, ctx: ProbeContext): Promise<string | undefined> {
  if (check.kind === 'url') {
    const deadline = deadlineSignal(ctx.signal, ctx.probeTimeoutMs);
    try {
      const res = await fetch(check.url, { signal: deadline.signal, redirect: 'follow' });
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return e.name === 'TimeoutError' ? 'no answer' : (e.cause?.code ?? e.message);
    } finally {
      deadline.done();
    }
  }
  // A real process is bounded in real time; the run clock paces only the waits between probes.
  const limit = deadlineSignal(ctx.signal, ctx.probeTimeoutMs);
  const r = await runInProcessGroup({
    command: check.command,
    cwd: check.cwd,
    env: check.env,
    signal: limit.signal,
    killGraceMs: ctx.killGraceMs,
    clock: ctx.clock,
  }).finally(() => limit.done());
  if (r.spawnError) return r.spawnError;
  if (r.exitCode === 0) return undefined;
  return r.exitCode === null ? 'health command timed out' : `health command exit ${r.exitCode}`;
}

export interface WaitOutcome {
  readonly healthy: boolean;
  readonly waitedMs: number;
  readonly probes: number;
  /** Why the last probe failed. */
  readonly last?: string;
}

export async function waitHealthy(
  check: HealthCheck,
  ctx: ProbeContext & { readonly timeoutMs: number; readonly intervalMs: number },
): Promise<WaitOutcome> {
  const start = ctx.clock.now();
  let probes = 0;
  let last: string | undefined;
  for (;;) {
    probes++;
    last = await probe(check, ctx);
    const waited = ctx.clock.now() - start;
    if (last === undefined) return { healthy: true, waitedMs: waited, probes };
    if (ctx.signal.aborted || waited + ctx.intervalMs > ctx.timeoutMs) {
      return { healthy: false, waitedMs: waited, probes, last };
    }
    await sleepOn(ctx.clock, ctx.intervalMs, ctx.signal);
  }
}
