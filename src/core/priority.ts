/**
 * The priority engine. When more tasks are due than `concurrency` allows, the highest score
 * starts first.
 *
 *   score = (impact×w_i + urgency×w_u + effort×w_e + success_rate×w_s) × category × priority
 *
 * Every term is on a 0-100 scale, so with weights summing to 1 the bracket is 0-100 too. Pure.
 */
import { formatDuration } from './duration.js';

export const PRIORITY_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type PriorityLevel = (typeof PRIORITY_LEVELS)[number];

export const CATEGORIES = [
  'code_quality',
  'test_maintenance',
  'config_cleanup',
  'documentation',
  'security',
  'performance',
  'dependency_updates',
  'log_management',
  'cache',
  'backup',
  'health',
  'database',
  'process',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface PriorityWeights {
  readonly impact: number;
  readonly urgency: number;
  readonly effort: number;
  readonly success_rate: number;
}

export const DEFAULT_WEIGHTS: PriorityWeights = { impact: 0.4, urgency: 0.3, effort: 0.2, success_rate: 0.1 };

/** How much a category matters relative to the rest: safety and data first, cosmetics last. */
export const DEFAULT_CATEGORY_MULTIPLIERS: Readonly<Record<Category, number>> = {
  security: 1.5,
  backup: 1.4,
  health: 1.3,
  database: 1.2,
  performance: 1.2,
  process: 1.1,
  log_management: 1.0,
  dependency_updates: 1.0,
  cache: 0.9,
  config_cleanup: 0.9,
  code_quality: 0.8,
  test_maintenance: 0.8,
  documentation: 0.7,
};

export const PRIORITY_ADJUSTMENT: Readonly<Record<PriorityLevel, number>> = {
  low: 0.5,
  medium: 1.0,
  high: 1.5,
  critical: 2.0,
};

export interface PriorityInput {
  /** 0-100 per dimension (performance, maintainability, …); the mean is the impact. */
  readonly impact: Readonly<Record<string, number>>;
  /** 1-10 each; low complexity and low risk make a task cheap to run. */
  readonly effort: { readonly complexity?: number; readonly risk?: number };
  readonly priority: PriorityLevel;
  readonly category: Category | undefined;
  /** How long the task has been due (0 when not yet due). */
  readonly overdueMs: number;
  /** The task's usual gap between runs: being one period overdue gives urgency 50. */
  readonly periodMs: number;
  readonly history: {
    readonly runs: number;
    readonly successes: number;
    readonly medianDurationMs: number | null;
  };
}

export interface PriorityTerm {
  readonly name: 'impact' | 'urgency' | 'effort' | 'success_rate';
  readonly value: number; // 0-100
  readonly weight: number;
  readonly contribution: number; // value × weight
  readonly why: string;
}

export interface PriorityBreakdown {
  readonly score: number;
  readonly base: number;
  readonly terms: readonly PriorityTerm[];
  readonly category: Category | undefined;
  readonly categoryMultiplier: number;
  readonly priority: PriorityLevel;
  readonly priorityAdjustment: number;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

export function scorePriority(
  input: PriorityInput,
  weights: PriorityWeights = DEFAULT_WEIGHTS,
  categoryMultipliers: Readonly<Record<string, number>> = DEFAULT_CATEGORY_MULTIPLIERS,
): PriorityBreakdown {
  const dims = Object.values(input.impact);
  const impact = dims.length === 0 ? 50 : dims.reduce((a, b) => a + b, 0) / dims.length;
  const impactWhy =
    dims.length === 0 ? 'no impact given: neutral 50' : `mean of ${Object.keys(input.impact).join(', ')}`;

  const period = Math.max(60_000, input.periodMs);
  const overdue = Math.max(0, input.overdueMs);
  const urgency = 100 * (1 - 2 ** (-overdue / period));
  const urgencyWhy = `overdue ${formatDuration(Math.round(overdue / 1000) * 1000)} of a ${formatDuration(Math.round(period / 1000) * 1000)} period (one period overdue = 50)`;

  const complexity = clamp(input.effort.complexity ?? 5, 1, 10);
  const risk = clamp(input.effort.risk ?? 5, 1, 10);
  const effortParts = [((10 - complexity) / 9) * 100, ((10 - risk) / 9) * 100];
  const median = input.history.medianDurationMs;
  if (median !== null) effortParts.push((100 * 60_000) / (60_000 + median));
  const effort = effortParts.reduce((a, b) => a + b, 0) / effortParts.length;
  const effortWhy =
    `complexity ${complexity}, risk ${risk}` +
    (median === null ? ', no past runs' : `, median run ${formatDuration(median)}`);

  const successRate = input.history.runs === 0 ? 100 : (100 * input.history.successes) / input.history.runs;
  const successWhy =
    input.history.runs === 0
      ? 'no past runs: 100'
      : `${input.history.successes} of the last ${input.history.runs} runs succeeded`;

  const terms: PriorityTerm[] = [
    { name: 'impact', value: impact, weight: weights.impact, contribution: 0, why: impactWhy },
    { name: 'urgency', value: urgency, weight: weights.urgency, contribution: 0, why: urgencyWhy },
    { name: 'effort', value: effort, weight: weights.effort, contribution: 0, why: effortWhy },
    {
      name: 'success_rate',
      value: successRate,
      weight: weights.success_rate,
      contribution: 0,
      why: successWhy,
    },
  ].map((t) => ({ ...t, value: round(t.value), contribution: round(t.value * t.weight) }) as PriorityTerm);

  const base = terms.reduce((sum, t) => sum + t.value * t.weight, 0);
  const categoryMultiplier = input.category === undefined ? 1 : (categoryMultipliers[input.category] ?? 1);
  const priorityAdjustment = PRIORITY_ADJUSTMENT[input.priority];
  return {
    score: round(base * categoryMultiplier * priorityAdjustment),
    base: round(base),
    terms,
    category: input.category,
    categoryMultiplier,
    priority: input.priority,
    priorityAdjustment,
  };
}
