/**
 * Judging a value against limits. `above` for things that are bad when high (disk used, latency),
 * `below` for things that are bad when low (days of certificate left, a hit rate).
 */
import { z } from 'zod';
import { numberOrPercent } from '../../schema/thresholds.js';
import type { CheckStatus } from './check-types.js';

export interface Limits {
  readonly warn?: number;
  readonly fail?: number;
}

export function judgeAbove(value: number, l: Limits): CheckStatus {
  if (l.fail !== undefined && value >= l.fail) return 'fail';
  if (l.warn !== undefined && value >= l.warn) return 'warn';
  return 'ok';
}

export function judgeBelow(value: number, l: Limits): CheckStatus {
  if (l.fail !== undefined && value < l.fail) return 'fail';
  if (l.warn !== undefined && value < l.warn) return 'warn';
  return 'ok';
}

/** "warn ≥ 90%, fail ≥ 95%" */
export function describeLimits(
  l: Limits,
  dir: '≥' | '<',
  fmt: (n: number) => string = String,
): string | undefined {
  const parts = [
    l.warn !== undefined ? `warn ${dir} ${fmt(l.warn)}` : null,
    l.fail !== undefined ? `fail ${dir} ${fmt(l.fail)}` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : undefined;
}

export const pct = (f: number) => `${Math.round(f * 1000) / 10}%`;

/** Generic bounds for values an application reports (json_file, metrics_file). */
export const boundsSchema = {
  warn_above: numberOrPercent().optional().describe('warn when the value is at or above this'),
  fail_above: numberOrPercent().optional().describe('fail when the value is at or above this'),
  warn_below: numberOrPercent().optional().describe('warn when the value is below this (30% = 0.3)'),
  fail_below: numberOrPercent().optional().describe('fail when the value is below this'),
};

export interface Bounds {
  readonly warn_above?: number;
  readonly fail_above?: number;
  readonly warn_below?: number;
  readonly fail_below?: number;
}

export function judgeBounds(value: number, b: Bounds): CheckStatus {
  const hi = judgeAbove(value, { warn: b.warn_above, fail: b.fail_above });
  const lo = judgeBelow(value, { warn: b.warn_below, fail: b.fail_below });
  return hi === 'fail' || lo === 'fail' ? 'fail' : hi === 'warn' || lo === 'warn' ? 'warn' : 'ok';
}

export function describeBounds(b: Bounds): string | undefined {
  const parts = [
    b.warn_below !== undefined ? `warn < ${b.warn_below}` : null,
    b.fail_below !== undefined ? `fail < ${b.fail_below}` : null,
    b.warn_above !== undefined ? `warn ≥ ${b.warn_above}` : null,
    b.fail_above !== undefined ? `fail ≥ ${b.fail_above}` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : undefined;
}

export const checkName = z
  .string()
  .min(1)
  .regex(/^[^\s]+$/, { error: 'expected a name without spaces' })
  .optional()
  .describe('Shown in the report and used for its samples. @default derived from the check');
