/**
 * Runs every check at once, each with its own timeout on the injected clock: a hung check is
 * aborted and reported as failed when its time is up, and never holds up the others.
 */
import { setMaxListeners } from 'node:events';
import { formatDuration } from '../../core/duration.js';
import type { CheckContext, CheckKind, CheckOutcome, CheckResult } from './check-types.js';
import type { CommonSpec } from './common-options.js';

export interface PlannedCheck {
  readonly kind: CheckKind;
  readonly spec: CommonSpec;
  readonly name: string;
  readonly timeoutMs: number;
}

export async function runCheck(p: PlannedCheck, ctx: CheckContext): Promise<CheckResult[]> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onParentAbort, { once: true });
  const started = performance.now();
  let timer: ReturnType<CheckContext['clock']['setTimer']> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = ctx.clock.setTimer(() => {
      controller.abort(new Error('check timed out'));
      resolve('timeout');
    }, p.timeoutMs);
  });
  let outcomes: readonly CheckOutcome[];
  try {
    const work = p.kind.run(p.spec, { ...ctx, signal: controller.signal });
    const r = await Promise.race([work, timedOut]);
    if (r === 'timeout') {
      work.catch(() => {}); // it was aborted; its late rejection means nothing now
      outcomes = [
        { status: 'fail', value: null, message: `no answer within ${formatDuration(p.timeoutMs)} (timeout)` },
      ];
    } else outcomes = Array.isArray(r) ? r : [r as CheckOutcome];
  } catch (err) {
    const e = err as Error;
    outcomes = [
      {
        status: 'fail',
        value: null,
        message: ctx.signal.aborted ? 'aborted' : `check failed: ${e.message.split('\n')[0]}`,
      },
    ];
  } finally {
    if (timer) ctx.clock.clearTimer(timer);
    ctx.signal.removeEventListener('abort', onParentAbort);
  }
  const durationMs = Math.round(performance.now() - started);
  return outcomes.map((o) => ({
    ...o,
    kind: p.kind.kind,
    name: o.suffix ? `${p.name}/${o.suffix}` : p.name,
    durationMs,
  }));
}

export async function runChecks(
  planned: readonly PlannedCheck[],
  ctx: CheckContext,
): Promise<CheckResult[][]> {
  // Every check listens for the run's abort: 50 checks are not a listener leak.
  setMaxListeners(planned.length + 20, ctx.signal);
  return Promise.all(planned.map((p) => runCheck(p, ctx)));
}
