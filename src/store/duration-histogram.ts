/**
 * Durations kept as log-spaced buckets (2 % wide) per task and day, so that p50/p95 over any
 * number of days come from a few hundred numbers instead of a million rows. Percentiles are
 * exact to within the bucket width (±1 %).
 */
const BASE = 1.02;
const LOG_BASE = Math.log(BASE);

export function bucketOf(ms: number): number {
  return Math.floor(Math.log(Math.max(0, ms) + 1) / LOG_BASE);
}

/** The middle of a bucket, in ms. */
export function bucketValue(bucket: number): number {
  return (BASE ** bucket + BASE ** (bucket + 1)) / 2 - 1;
}

export function mergeHistograms(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** The q-quantile (0-1) of a histogram, or null when it is empty. */
export function quantile(hist: Readonly<Record<string, number>>, q: number): number | null {
  const buckets = Object.entries(hist)
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((s, [, v]) => s + v, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [bucket, count] of buckets) {
    seen += count;
    if (seen >= rank) return bucketValue(bucket);
  }
  return bucketValue(buckets[buckets.length - 1]![0]);
}

/** Buckets up to ~30 days of duration; longer runs share the last bucket. */
export const MAX_BUCKET = bucketOf(30 * 86_400_000);

/** A dense histogram for merging many sparse ones quickly. */
export function denseHistogram(): Float64Array {
  return new Float64Array(MAX_BUCKET + 1);
}

export function addSparse(into: Float64Array, sparse: Readonly<Record<string, number>>): void {
  for (const k in sparse) into[Math.min(MAX_BUCKET, Number(k))]! += sparse[k]!;
}

/** The q-quantile (0-1) of a dense histogram, or null when it is empty. */
export function denseQuantile(hist: Float64Array, q: number): number | null {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i]!;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= rank) return bucketValue(i);
  }
  return bucketValue(hist.length - 1);
}

/**
 * The upper bounds (ms) of the lifetime duration totals (RunTotal.durations): fixed, so they can
 * be Prometheus histogram buckets (`le`). A duration above the last is in bucket
 * TOTAL_BUCKETS_MS.length (+Inf). Never changed: stored indices refer to these bounds (the
 * stores' migrations bucketed the runs kept by them).
 */
export const TOTAL_BUCKETS_MS: readonly number[] = [
  100, 500, 1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000,
  21_600_000, 86_400_000,
];

export function totalBucketOf(ms: number): number {
  for (let i = 0; i < TOTAL_BUCKETS_MS.length; i++) if (ms <= TOTAL_BUCKETS_MS[i]!) return i;
  return TOTAL_BUCKETS_MS.length;
}
