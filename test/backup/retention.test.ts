import { describe, expect, it } from 'vitest';
import { applyRetention, isoWeek, type KeepPolicy } from '../../src/core/retention.js';

// A synthetic set of archive dates (UTC), shuffled on purpose: the policy must sort them itself.
const at = (s: string) => Date.parse(`${s}Z`);
const ARCHIVES = [
  { id: 'E', time: at('2026-11-20T02:00:00') }, // Fri, ISO week 47
  { id: 'A', time: at('2026-11-24T02:00:00') }, // Tue, week 48
  { id: 'L', time: at('2025-06-01T02:00:00') }, // Sun, 2025-W22
  { id: 'C', time: at('2026-11-23T02:00:00') }, // Mon, week 48
  { id: 'B', time: at('2026-11-24T01:00:00') }, // Tue, week 48, same day as A
  { id: 'G', time: at('2026-11-01T02:00:00') }, // Sun, week 44
  { id: 'D', time: at('2026-11-22T02:00:00') }, // Sun, week 47
  { id: 'F', time: at('2026-11-15T02:00:00') }, // Sun, week 46
  { id: 'H', time: at('2026-10-31T02:00:00') }, // Sat, week 44 (same ISO week as G), October
  { id: 'I', time: at('2026-10-01T02:00:00') }, // Thu, week 40
  { id: 'J', time: at('2026-09-15T02:00:00') }, // Tue, week 38
  { id: 'K', time: at('2025-12-31T02:00:00') }, // Wed, year 2025 but ISO week 2026-W1
];

const kept = (policy: KeepPolicy) => applyRetention(ARCHIVES, policy).keep.map((k) => k.id);

describe('retention with restic keep-* semantics', () => {
  it('keep last N keeps the N newest archives', () => {
    expect(kept({ last: 3 })).toEqual(['A', 'B', 'C']);
  });

  it('keep daily N keeps the newest archive of each of the last N days that have one', () => {
    expect(kept({ daily: 3 })).toEqual(['A', 'C', 'D']); // B shares A's day
  });

  it('keep weekly N uses ISO weeks', () => {
    expect(kept({ weekly: 3 })).toEqual(['A', 'D', 'F']);
    // G and H share ISO week 44 (G is newer); K (2025-12-31) is in 2026-W1, L in 2025-W22.
    expect(kept({ weekly: 20 })).toEqual(['A', 'D', 'F', 'G', 'I', 'J', 'K', 'L']);
  });

  it('keep monthly and yearly N keep the newest archive of each month or year', () => {
    expect(kept({ monthly: 3 })).toEqual(['A', 'H', 'J']);
    expect(kept({ yearly: 2 })).toEqual(['A', 'K']);
  });

  it('keeps the union of all rules and says which rules keep each archive', () => {
    const d = applyRetention(ARCHIVES, { last: 1, daily: 2, weekly: 2, monthly: 2, yearly: 3 });
    expect(d.keep.map((k) => k.id)).toEqual(['A', 'C', 'D', 'H', 'K']);
    expect(d.remove).toEqual(['B', 'E', 'F', 'G', 'I', 'J', 'L']);
    expect(d.keep[0]).toEqual({ id: 'A', reasons: ['last', 'daily', 'weekly', 'monthly', 'yearly'] });
    expect(d.keep.find((k) => k.id === 'D')?.reasons).toEqual(['weekly']);
  });

  it('keeps everything when no rule is set', () => {
    expect(applyRetention(ARCHIVES, {}).remove).toEqual([]);
  });

  it('computes ISO week numbers across year boundaries', () => {
    expect(isoWeek(at('2025-12-31T12:00:00'))).toEqual({ year: 2026, week: 1 });
    expect(isoWeek(at('2021-01-03T12:00:00'))).toEqual({ year: 2020, week: 53 });
    expect(isoWeek(at('2026-11-24T12:00:00'))).toEqual({ year: 2026, week: 48 });
  });
});
