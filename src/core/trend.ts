/**
 * Trend labels for sampled values: the recent half of a window against the older half. Whether
 * "up" is good depends on the value (latency up is degrading, a success rate up is improving).
 * Pure.
 */
import type { Point } from './forecast.js';

export type TrendLabel = 'degrading' | 'stable' | 'improving' | 'n/a';
export type Better = 'lower' | 'higher';

export interface Trend {
  readonly label: TrendLabel;
  /** Recent mean / older mean − 1 (0.25 = up 25 %); null without both halves. */
  readonly change: number | null;
  readonly recentMean: number | null;
  readonly olderMean: number | null;
}

const mean = (ps: readonly Point[]) => ps.reduce((s, p) => s + p.value, 0) / ps.length;

/**
 * Splits the window [from, to] at its midpoint. `threshold` is the relative change that counts
 * (0.2 = ±20 %). Each half needs `minPerHalf` samples.
 */
export function trendOf(
  points: readonly Point[],
  better: Better,
  opts: { from: number; to: number; threshold?: number; minPerHalf?: number },
): Trend {
  const threshold = opts.threshold ?? 0.2;
  const minPerHalf = opts.minPerHalf ?? 2;
  const mid = opts.from + (opts.to - opts.from) / 2;
  const inside = points.filter((p) => p.at >= opts.from && p.at <= opts.to);
  const older = inside.filter((p) => p.at < mid);
  const recent = inside.filter((p) => p.at >= mid);
  if (older.length < minPerHalf || recent.length < minPerHalf)
    return { label: 'n/a', change: null, recentMean: recent.length ? mean(recent) : null, olderMean: null };
  const o = mean(older);
  const r = mean(recent);
  let change: number;
  if (o === 0) change = r === 0 ? 0 : Math.sign(r) * Infinity;
  else change = r / o - 1;
  // Compare on the magnitude of the older mean so a negative series does not flip the sense.
  if (o < 0) change = -change;
  let label: TrendLabel = 'stable';
  if (change > threshold) label = better === 'lower' ? 'degrading' : 'improving';
  else if (change < -threshold) label = better === 'lower' ? 'improving' : 'degrading';
  return { label, change: Number.isFinite(change) ? change : null, recentMean: r, olderMean: o };
}
