/**
 * Capacity forecast: when will a growing quantity (bytes used on a disk) reach its capacity?
 * A least-squares line through the samples of the last N days, fitted only on the samples since
 * the last big drop.
 *
 * Why "since the last big drop": a cleanup (logs rotated away, a cache emptied) is a step down,
 * not a trend. A straight line fitted across the step has a slope dragged down — often below
 * zero — and would say "never fills" until the step has aged out of the window, which is exactly
 * when the disk fills up again. Growth after the cleanup is what predicts the next fill, so the
 * fit starts after the step. A step is "big" when it is well outside the series' own noise
 * (more than 5× the median absolute change between samples) and also material (at least 1 % of
 * the capacity, or of the value when the capacity is unknown); ordinary jitter never splits the
 * series. A robust estimator (Theil–Sen) was considered: it resists outliers but not a level
 * shift that covers a third or more of the window, which is the common case after a cleanup.
 *
 * Pure: time is in the samples, `now` is a parameter.
 */

export interface Point {
  /** Epoch ms. */
  readonly at: number;
  readonly value: number;
}

export interface LineFit {
  /** Units per millisecond. */
  readonly slope: number;
  /** Value at `at = 0` (epoch). Use `valueAt`. */
  readonly intercept: number;
  /** Coefficient of determination, 0-1 (1 for a perfect line; 0 for a flat or one-point series). */
  readonly r2: number;
  readonly n: number;
}

/** Ordinary least squares of value on time. Undefined with fewer than two distinct instants. */
export function fitLine(points: readonly Point[]): LineFit | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  // Centre the instants: epoch milliseconds squared lose precision in doubles.
  const t0 = points[0]!.at;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.at - t0;
    sy += p.value;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of points) {
    const dx = p.at - t0 - mx;
    const dy = p.value - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const intercept = my - slope * (mx + t0);
  const r2 = syy === 0 ? 1 : Math.min(1, (sxy * sxy) / (sxx * syy));
  return { slope, intercept, r2, n };
}

export function valueAt(fit: LineFit, at: number): number {
  return fit.intercept + fit.slope * at;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Index of the first sample after the last big drop (0 when there is none). `capacity` scales
 * what counts as material.
 */
export function lastBigDrop(points: readonly Point[], capacity?: number): number {
  if (points.length < 3) return 0;
  const steps: number[] = [];
  for (let i = 1; i < points.length; i++) steps.push(points[i]!.value - points[i - 1]!.value);
  const noise = median(steps.map(Math.abs));
  for (let i = steps.length - 1; i >= 0; i--) {
    const drop = -steps[i]!;
    if (drop <= 0) continue;
    const material = 0.01 * (capacity ?? Math.abs(points[i]!.value));
    if (drop > 5 * noise && drop >= material) return i + 1;
  }
  return 0;
}

export interface Forecast {
  /** Growth per day, in the series' units (negative when shrinking). */
  readonly perDay: number;
  /** When the fitted line reaches the capacity; null when it is not growing (or is already full). */
  readonly fullAt: number | null;
  /** Days from `now` to `fullAt` (0 when already full), null when not growing. */
  readonly daysLeft: number | null;
  /** The samples the line was fitted on. */
  readonly basis: {
    readonly from: number;
    readonly to: number;
    readonly samples: number;
    readonly r2: number;
  };
  /** Set when the fit started after a drop (a cleanup) instead of at the window's start. */
  readonly since: number | null;
}

export const MIN_FORECAST_SAMPLES = 3;
const DAY = 86_400_000;

/**
 * The forecast for `points` (oldest first) against `capacity`. Undefined when there are too few
 * samples (after the last drop) or they span less than `minSpanMs`.
 */
export function forecastFull(
  points: readonly Point[],
  capacity: number,
  now: number,
  minSpanMs = 0,
): Forecast | undefined {
  const sorted = [...points].sort((a, b) => a.at - b.at);
  const start = lastBigDrop(sorted, capacity);
  const used = sorted.slice(start);
  if (used.length < MIN_FORECAST_SAMPLES) return undefined;
  const from = used[0]!.at;
  const to = used[used.length - 1]!.at;
  if (to - from < minSpanMs) return undefined;
  const fit = fitLine(used);
  if (!fit) return undefined;
  const basis = { from, to, samples: used.length, r2: fit.r2 };
  const since = start > 0 ? from : null;
  const perDay = fit.slope * DAY;
  const latest = used[used.length - 1]!.value;
  if (latest >= capacity) return { perDay, fullAt: now, daysLeft: 0, basis, since };
  if (fit.slope <= 0) return { perDay, fullAt: null, daysLeft: null, basis, since };
  // Project from the latest measured value rather than the line's value now: the line's
  // intercept lags a series that just jumped, and the operator reads "from what it is now".
  const fullAt = Math.max(now, to + (capacity - latest) / fit.slope);
  return { perDay, fullAt, daysLeft: (fullAt - now) / DAY, basis, since };
}
