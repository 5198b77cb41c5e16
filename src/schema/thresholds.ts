/**
 * Schema pieces for thresholds: percentages (`90%`, or 90), plain numbers that may be written as
 * percentages (`warn_below: 30%` is 0.3), and `N in <duration>` rate limits. Each carries the
 * message a user sees when the value is wrong.
 */
import { z } from 'zod';
import { DURATION_HINT, parseDuration } from '../core/duration.js';

const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/** A percentage, "90%" or 90 (0-100) → a fraction (0.9). */
export function percent() {
  const hint = 'a percentage such as 90% (0-100)';
  return z.union([z.string(), z.number()], { error: `expected ${hint}` }).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : PERCENT.exec(v) ? Number(PERCENT.exec(v)![1]) : NaN;
    if (!Number.isFinite(n) || n < 0 || n > 100) {
      ctx.issues.push({ code: 'custom', message: `expected ${hint}`, input: v });
      return z.NEVER;
    }
    return n / 100;
  });
}

/** A number, or a percentage string that becomes a fraction ("30%" → 0.3). */
export function numberOrPercent() {
  const hint = 'a number, or a percentage such as 30%';
  return z.union([z.number(), z.string()], { error: `expected ${hint}` }).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const m = PERCENT.exec(v);
    if (!m) {
      ctx.issues.push({ code: 'custom', message: `expected ${hint}`, input: v });
      return z.NEVER;
    }
    return Number(m[1]) / 100;
  });
}

/** "3 in 1h" → { max: 3, perMs: 3600000 }. */
export function rateLimit() {
  const hint = `a limit such as "3 in 1h" (a count, "in", ${DURATION_HINT})`;
  return z.string({ error: `expected ${hint}` }).transform((v, ctx) => {
    const m = /^\s*(\d+)\s+in\s+(.+?)\s*$/.exec(v);
    const perMs = m ? parseDuration(m[2]!) : undefined;
    if (!m || perMs === undefined || perMs <= 0 || Number(m[1]) < 1) {
      ctx.issues.push({ code: 'custom', message: `expected ${hint}`, input: v });
      return z.NEVER;
    }
    return { max: Number(m[1]), perMs };
  });
}
