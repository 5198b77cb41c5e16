/** Gathers what the priority engine needs about a task at an instant. */
import type { Config, TaskConfig } from '../config/types.js';
import { scorePriority, type PriorityBreakdown } from '../core/priority.js';
import type { RecentRuns } from '../store/types.js';

export const NO_HISTORY: RecentRuns = { runs: 0, successes: 0, medianDurationMs: null };

export function priorityOf(
  config: Config,
  task: TaskConfig,
  facts: { now: number; dueSince: number | null; periodMs: number; recent: RecentRuns },
): PriorityBreakdown {
  return scorePriority(
    {
      impact: task.impact,
      effort: task.effort,
      priority: task.priority,
      category: task.category,
      overdueMs: facts.dueSince === null ? 0 : facts.now - facts.dueSince,
      periodMs: facts.periodMs,
      history: facts.recent,
    },
    config.priority.weights,
    config.priority.categories,
  );
}
