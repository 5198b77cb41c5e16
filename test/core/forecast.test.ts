import { describe, expect, it } from 'vitest';
import { fitLine, forecastFull, lastBigDrop, type Point } from '../../src/core/forecast.js';
import { trendOf } from '../../src/core/trend.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);
const GB = 1024 ** 3;

/** A deterministic pseudo-random jitter in [-1, 1]. */
function jitter(i: number): number {
  const x = Math.sin(i * 12.9898) * 43_758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

function series(days: number, everyMs: number, value: (t: number, i: number) => number): Point[] {
  const out: Point[] = [];
  for (let i = 0, t = T0; t <= T0 + days * DAY; i++, t += everyMs) out.push({ at: t, value: value(t, i) });
  return out;
}

describe('least-squares fit', () => {
  it('recovers the slope and intercept of an exact line', () => {
    const pts = series(10, HOUR, (t) => 5 * GB + ((t - T0) / DAY) * 2 * GB);
    const fit = fitLine(pts)!;
    expect(fit.slope * DAY).toBeCloseTo(2 * GB, 0);
    expect(fit.r2).toBeCloseTo(1, 10);
  });

  it('needs two distinct instants', () => {
    expect(fitLine([{ at: T0, value: 1 }])).toBeUndefined();
    expect(
      fitLine([
        { at: T0, value: 1 },
        { at: T0, value: 2 },
      ]),
    ).toBeUndefined();
  });
});

describe('capacity forecast', () => {
  it('predicts the fill date of a disk growing 1 GB a day with noise', () => {
    // 100 GB disk, 40 GB used at T0, +1 GB/day, ±50 MB of jitter; 14 days of hourly samples.
    const pts = series(14, HOUR, (t, i) => 40 * GB + ((t - T0) / DAY) * GB + jitter(i) * 50 * 1024 ** 2);
    const now = T0 + 14 * DAY;
    const f = forecastFull(pts, 100 * GB, now)!;
    expect(f.perDay / GB).toBeCloseTo(1, 2);
    // 54 GB used now, 46 GB to go at 1 GB/day: full 46 days from now (within a few hours).
    expect(Math.abs(f.daysLeft! - 46)).toBeLessThan(0.2);
    expect(f.since).toBeNull();
  });

  it('is not fooled by a deletion: it fits the growth since the cleanup', () => {
    // +2 GB/day for 10 days, a cleanup deletes 30 GB, then +2 GB/day again for 4 days.
    const pts = series(14, HOUR, (t, i) => {
      const d = (t - T0) / DAY;
      return 50 * GB + d * 2 * GB - (d >= 10 ? 30 * GB : 0) + jitter(i) * 20 * 1024 ** 2;
    });
    const now = T0 + 14 * DAY;
    const naive = fitLine(pts)!;
    // Across the step, a plain fit is dragged far below the real rate.
    expect((naive.slope * DAY) / GB).toBeLessThan(0.5);
    const f = forecastFull(pts, 100 * GB, now)!;
    expect(f.perDay / GB).toBeCloseTo(2, 1);
    expect(f.since).toBe(T0 + 10 * DAY);
    // 50 + 28 - 30 = 48 GB used now, 52 GB left at 2 GB/day: 26 days.
    expect(Math.abs(f.daysLeft! - 26)).toBeLessThan(0.2);
  });

  it('does not split on ordinary jitter', () => {
    const pts = series(3, HOUR, (_t, i) => 10 * GB + jitter(i) * 200 * 1024 ** 2);
    expect(lastBigDrop(pts, 100 * GB)).toBe(0);
  });

  it('says "not filling" for a shrinking disk and needs enough samples', () => {
    const shrinking = series(5, HOUR, (t) => 80 * GB - ((t - T0) / DAY) * GB);
    const f = forecastFull(shrinking, 100 * GB, T0 + 5 * DAY)!;
    expect(f.fullAt).toBeNull();
    expect(f.perDay).toBeLessThan(0);
    expect(forecastFull(shrinking.slice(0, 2), 100 * GB, T0)).toBeUndefined();
    expect(forecastFull(shrinking.slice(0, 5), 100 * GB, T0, DAY)).toBeUndefined(); // spans 4h < 1 day
  });

  it('reports an already full disk as full now', () => {
    const full = series(1, HOUR, () => 100 * GB);
    expect(forecastFull(full, 100 * GB, T0 + DAY)!.daysLeft).toBe(0);
  });
});

describe('trend labels', () => {
  const window = { from: T0, to: T0 + 7 * DAY };
  const halves = (older: number, recent: number) =>
    series(7, 6 * HOUR, (t) => (t < T0 + 3.5 * DAY ? older : recent));

  it('labels a latency up 50% as degrading and a success rate up 50% as improving', () => {
    expect(trendOf(halves(100, 150), 'lower', window).label).toBe('degrading');
    expect(trendOf(halves(0.5, 0.75), 'higher', window).label).toBe('improving');
    expect(trendOf(halves(100, 150), 'lower', window).change).toBeCloseTo(0.5, 5);
  });

  it('calls a change within ±20% stable and needs both halves', () => {
    expect(trendOf(halves(100, 115), 'lower', window).label).toBe('stable');
    expect(trendOf(halves(100, 70), 'lower', window).label).toBe('improving');
    expect(
      trendOf(
        series(1, HOUR, () => 1),
        'lower',
        window,
      ).label,
    ).toBe('n/a');
  });
});
