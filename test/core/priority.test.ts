import { describe, expect, it } from 'vitest';
import { scorePriority, type PriorityInput } from '../../src/core/priority.js';

const base: PriorityInput = {
  impact: { performance: 40, maintainability: 60 },
  effort: { complexity: 2, risk: 3 },
  priority: 'medium',
  category: 'log_management',
  overdueMs: 0,
  periodMs: 3_600_000,
  history: { runs: 10, successes: 9, medianDurationMs: 60_000 },
};

describe('priority engine', () => {
  it('computes every term with the default weights 0.4/0.3/0.2/0.1', () => {
    // Worked by hand:
    //   impact       mean(40, 60)                                     = 50      × 0.4 = 20
    //   urgency      not overdue                                      = 0       × 0.3 = 0
    //   effort       mean((10-2)/9, (10-3)/9, 60s/(60s+60s)) as %
    //                = mean(88.889, 77.778, 50)                       = 72.222  × 0.2 = 14.444
    //   success_rate 9 of 10                                          = 90      × 0.1 = 9
    //   base = 20 + 0 + 14.444 + 9 = 43.444; log_management × 1.0, medium × 1.0 → score 43.444
    const p = scorePriority(base);
    const terms = Object.fromEntries(p.terms.map((t) => [t.name, t]));
    expect(terms.impact).toMatchObject({ value: 50, weight: 0.4, contribution: 20 });
    expect(terms.urgency).toMatchObject({ value: 0, weight: 0.3, contribution: 0 });
    expect(terms.effort!.value).toBeCloseTo(72.222, 2);
    expect(terms.effort!.weight).toBe(0.2);
    expect(terms.effort!.contribution).toBeCloseTo(14.444, 2);
    expect(terms.success_rate).toMatchObject({ value: 90, weight: 0.1, contribution: 9 });
    expect(p.base).toBeCloseTo(43.444, 2);
    expect(p.categoryMultiplier).toBe(1);
    expect(p.priorityAdjustment).toBe(1);
    expect(p.score).toBeCloseTo(43.444, 2);
  });

  it('grows urgency with how overdue a task is: one period overdue is 50', () => {
    const u = (overdueMs: number) =>
      scorePriority({ ...base, overdueMs }).terms.find((t) => t.name === 'urgency')!.value;
    expect(u(0)).toBe(0);
    expect(u(3_600_000)).toBeCloseTo(50, 5);
    expect(u(7_200_000)).toBeCloseTo(75, 5);
    expect(u(100 * 3_600_000)).toBeCloseTo(100, 1);
  });

  it('multiplies by category and priority level', () => {
    const medium = scorePriority(base);
    const critical = scorePriority({ ...base, priority: 'critical', category: 'security' });
    expect(critical.categoryMultiplier).toBe(1.5);
    expect(critical.priorityAdjustment).toBe(2);
    expect(critical.score).toBeCloseTo(130.333, 2); // 43.444 × 1.5 (security) × 2 (critical)
    expect(medium.score).toBeCloseTo(43.444, 2);
    expect(scorePriority({ ...base, priority: 'low' }).score).toBeCloseTo(21.722, 2); // × 0.5
  });

  it('uses custom weights and reads neutral values without history', () => {
    const p = scorePriority(
      { ...base, impact: {}, history: { runs: 0, successes: 0, medianDurationMs: null } },
      { impact: 1, urgency: 0, effort: 0, success_rate: 0 },
    );
    expect(p.base).toBe(50);
    expect(p.terms.find((t) => t.name === 'success_rate')!.why).toMatch(/no past runs/);
  });
});
