/**
 * Which archives a `keep:` policy keeps, with restic's `forget --keep-*` meaning. Archives are
 * walked newest first; each rule keeps the newest archive of each of its last N buckets (days,
 * ISO weeks, months, years — buckets that hold at least one archive; `last` keeps the newest N
 * archives), and an archive is kept when any rule keeps it. Buckets are UTC, as the archive names
 * are. Pure: no clock, no I/O.
 */

export interface KeepPolicy {
  readonly last?: number;
  readonly daily?: number;
  readonly weekly?: number;
  readonly monthly?: number;
  readonly yearly?: number;
}

export interface Dated {
  readonly id: string;
  /** ms since the epoch */
  readonly time: number;
}

export interface RetentionDecision {
  /** Newest first, each with the rules that keep it ("daily", "weekly", …). */
  readonly keep: { readonly id: string; readonly reasons: readonly string[] }[];
  /** Newest first. */
  readonly remove: readonly string[];
}

/** ISO 8601 week number and its year (the week with the year's first Thursday is week 1). */
export function isoWeek(ms: number): { year: number; week: number } {
  const d = new Date(ms);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  // The Thursday of this week lies in the week's year; its day of that year gives the week.
  return { year, week: Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1 };
}

type Bucketer = (ms: number, index: number) => string;

const RULES: readonly [keyof KeepPolicy, Bucketer][] = [
  ['last', (_ms, i) => `#${i}`],
  ['daily', (ms) => new Date(ms).toISOString().slice(0, 10)],
  [
    'weekly',
    (ms) => {
      const w = isoWeek(ms);
      return `${w.year}-W${w.week}`;
    },
  ],
  ['monthly', (ms) => new Date(ms).toISOString().slice(0, 7)],
  ['yearly', (ms) => new Date(ms).toISOString().slice(0, 4)],
];

export function hasKeepRule(policy: KeepPolicy): boolean {
  return RULES.some(([rule]) => (policy[rule] ?? 0) > 0);
}

export function applyRetention(items: readonly Dated[], policy: KeepPolicy): RetentionDecision {
  const sorted = items.map((it, i) => ({ it, i })).sort((a, b) => b.it.time - a.it.time || a.i - b.i);
  if (!hasKeepRule(policy))
    return { keep: sorted.map(({ it }) => ({ id: it.id, reasons: ['no keep rule'] })), remove: [] };
  const left = new Map(RULES.map(([rule]) => [rule, policy[rule] ?? 0]));
  const lastBucket = new Map<string, string>();
  const keep: { id: string; reasons: string[] }[] = [];
  const remove: string[] = [];
  sorted.forEach(({ it }, index) => {
    const reasons: string[] = [];
    for (const [rule, bucketOf] of RULES) {
      if (left.get(rule)! <= 0) continue;
      const bucket = bucketOf(it.time, index);
      if (bucket === lastBucket.get(rule)) continue;
      lastBucket.set(rule, bucket);
      left.set(rule, left.get(rule)! - 1);
      reasons.push(rule);
    }
    if (reasons.length > 0) keep.push({ id: it.id, reasons });
    else remove.push(it.id);
  });
  return { keep, remove };
}
