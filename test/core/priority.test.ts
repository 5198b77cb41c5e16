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
    const p = scorePriority(base);
    const terms = Object.fromEntries(p.terms.map((t) => [t.name, t]));
    expect(terms.impact).toMatchObject({ value: 50, weight: 0.4, contribution: 20 });
    expect(terms.urgency).toMatchObject({ value: 0, weight: 0.3 });
    // effort: mean of (10-2)/9, (10-3)/9 and 60s/(60s+60s), as percentages
    expect(terms.effort!.value).toBeCloseTo((800 / 9 + 700 / 9 + 50) / 3, 1);
    expect(terms.success_rate).toMatchObject({ value: 90, weight: 0.1, contribution: 9 });
    const expected = 50 * 0.4 + 0 + terms.effort!.value * 0.2 + 90 * 0.1;
    expect(p.base).toBeCloseTo(expected, 1);
    expect(p.score).toBeCloseTo(expected * 1.0 * 1.0, 1);
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
    expect(critical.score).toBeCloseTo(medium.base * 1.5 * 2, 1);
    expect(scorePriority({ ...base, priority: 'low' }).score).toBeLessThan(medium.score);
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
