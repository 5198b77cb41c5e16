/**
 * Run-time anomalies: a run that goes on far longer than usual, one that finished suspiciously
 * fast, a task that starts too often, a failure rate over a limit. Pure: past durations and
 * counts come in, findings go out.
 */
import { formatDuration } from '../core/duration.js';
import type { AnomalyPolicy } from './types.js';

export type AnomalyKind = 'too_long' | 'too_short' | 'too_often' | 'failure_rate';

export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly message: string;
  readonly details: Readonly<Record<string, number>>;
}

function quantileOf(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * How long a run may go on before it is "too long": p95 of past successful durations × factor.
 * Null when not configured or there is not enough history.
 */
export function tooLongAfter(pastDurations: readonly number[], policy: AnomalyPolicy): number | null {
  if (policy.tooLong === null || pastDurations.length < policy.minRuns) return null;
  const sorted = [...pastDurations].sort((a, b) => a - b);
  // Never alert on a run of a task that usually takes a few milliseconds: a floor of 1s.
  return Math.max(1_000, quantileOf(sorted, 0.95) * policy.tooLong);
}

export function tooLong(
  runningMs: number,
  pastDurations: readonly number[],
  policy: AnomalyPolicy,
): Anomaly | null {
  const limit = tooLongAfter(pastDurations, policy);
  if (limit === null || runningMs <= limit) return null;
  const p95 = quantileOf(
    [...pastDurations].sort((a, b) => a - b),
    0.95,
  );
  return {
    kind: 'too_long',
    message: `running for ${formatDuration(runningMs)}, over ${policy.tooLong}× its p95 of ${formatDuration(p95)}`,
    details: { runningMs, p95Ms: p95, limitMs: limit },
  };
}

export function tooShort(
  durationMs: number,
  pastDurations: readonly number[],
  policy: AnomalyPolicy,
): Anomaly | null {
  if (policy.tooShort === null || pastDurations.length < policy.minRuns) return null;
  const median = quantileOf(
    [...pastDurations].sort((a, b) => a - b),
    0.5,
  );
  const limit = median * policy.tooShort;
  if (durationMs >= limit) return null;
  return {
    kind: 'too_short',
    message: `finished in ${formatDuration(durationMs)}, under ${policy.tooShort}× its median of ${formatDuration(median)} — did it do its work?`,
    details: { durationMs, medianMs: median, limitMs: limit },
  };
}

/** `starts` is how many runs started within the policy's window, this one included. */
export function tooOften(starts: number, policy: AnomalyPolicy): Anomaly | null {
  if (policy.tooOften === null || starts <= policy.tooOften.max) return null;
  return {
    kind: 'too_often',
    message: `${starts} runs started within ${formatDuration(policy.tooOften.perMs)} (limit ${policy.tooOften.max})`,
    details: { starts, max: policy.tooOften.max, perMs: policy.tooOften.perMs },
  };
}

export function failureRate(runs: number, failures: number, policy: AnomalyPolicy): Anomaly | null {
  const rule = policy.failureRate;
  if (rule === null || runs < rule.minRuns || runs === 0) return null;
  const rate = failures / runs;
  if (rate <= rule.max) return null;
  return {
    kind: 'failure_rate',
    message: `${failures} of ${runs} runs failed within ${formatDuration(rule.overMs)} (${Math.round(rate * 100)}%, limit ${Math.round(rule.max * 100)}%)`,
    details: { runs, failures, rate, max: rule.max },
  };
}
