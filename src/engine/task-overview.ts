/**
 * Where each task stands, for `list-tasks`, `status` and `analyze-priority`: from the running
 * engine when there is one, else from what the store recorded (the next due instant a scheduler
 * would compute now, the priority it would give).
 */
import type { Config, TaskConfig } from '../config/types.js';
import type { PriorityBreakdown } from '../core/priority.js';
import { scheduleHasSeconds } from '../core/schedule.js';
import type { PauseRecord, Store, TaskState } from '../store/types.js';
import type { Engine } from './engine.js';
import { NO_HISTORY, priorityOf } from './priority-input.js';
import { TaskTimer } from './task-timer.js';
import { unknownTask } from './unknown-task.js';

const RECENT_RUNS = 50;

export interface TaskSummary {
  readonly id: string;
  readonly action: string;
  readonly description: string | undefined;
  readonly schedule: string | null;
  /** The zone the schedule is read in (the task's own, else the configuration's). */
  readonly timezone: string;
  /** The schedule fires on seconds (a 6-field cron): show times with seconds. */
  readonly seconds: boolean;
  readonly enabled: boolean;
  readonly group: string | null;
  readonly priority: TaskConfig['priority'];
  readonly score: number;
  /** When the next scheduled run is due (in the past: overdue, the scheduler is not running). */
  readonly nextRunAt: number | null;
  readonly lastStatus: string | null;
  readonly lastFinishedAt: number | null;
  readonly lastSuccessAt: number | null;
  readonly consecutiveFailures: number;
  /** Paused (`caretaker pause`): who, why, since when; null when not. */
  readonly paused: PauseRecord | null;
}

export interface UpcomingRun {
  readonly task: string;
  readonly fireAt: number;
  readonly dueAt: number;
  /** The task's zone, and whether its schedule has seconds: how to show `dueAt`. */
  readonly timezone: string;
  readonly seconds: boolean;
}

/** The running engine's next due runs, with what a person needs to read their times. */
export function upcomingRuns(config: Config, engine: Engine): UpcomingRun[] {
  const tasks = new Map(config.tasks.map((t) => [t.id, t]));
  return engine.upcoming().map((u) => {
    const task = tasks.get(u.task);
    return {
      ...u,
      timezone: task?.timezone ?? config.timezone,
      seconds: task?.schedule ? scheduleHasSeconds(task.schedule) : false,
    };
  });
}

/** The timer a scheduler would arm for the task now, from its recorded state. */
function offlineTimer(
  config: Config,
  task: TaskConfig,
  state: TaskState | undefined,
  now: number,
): TaskTimer {
  const timer = new TaskTimer(task, config.host, state?.lastStartedAt ?? null, now);
  timer.startAfter(state?.lastFire ?? now);
  return timer;
}

async function offlinePriority(
  config: Config,
  store: Store,
  task: TaskConfig,
  state: TaskState | undefined,
  now: number,
): Promise<PriorityBreakdown> {
  const timer = offlineTimer(config, task, state, now);
  return priorityOf(config, task, {
    now,
    dueSince: timer.dueAt !== null && timer.dueAt <= now ? timer.dueAt : null,
    periodMs: timer.periodMs,
    recent: (await store.recentRuns(task.id, RECENT_RUNS)) ?? NO_HISTORY,
  });
}

export interface OverviewInput {
  readonly config: Config;
  readonly store: Store;
  /** The engine when it is scheduling; null reads the store alone. */
  readonly engine: Engine | null;
  readonly now: number;
}

/** The priority breakdown of one task (throws the engine's "unknown task" UsageError). */
export async function taskPriority(input: OverviewInput, taskId: string): Promise<PriorityBreakdown> {
  const { config, store, engine, now } = input;
  const task = config.tasks.find((t) => t.id === taskId);
  if (engine || !task) {
    if (engine) return engine.priority(taskId);
    throw unknownTask(taskId, config);
  }
  const states = await store.taskStates(config.host);
  return offlinePriority(config, store, task, states.get(taskId), now);
}

/** Every task with its schedule, next due instant, last result and priority score. */
export async function taskSummaries(input: OverviewInput): Promise<TaskSummary[]> {
  const { config, store, engine, now } = input;
  const states = await store.taskStates(config.host);
  const pauses = new Map((await store.listPauses()).map((p) => [p.task, p]));
  const upcoming = new Map((engine?.upcoming() ?? []).map((u) => [u.task, u.dueAt]));
  const out: TaskSummary[] = [];
  for (const task of config.tasks) {
    const state = states.get(task.id);
    const next = engine ? (upcoming.get(task.id) ?? null) : offlineTimer(config, task, state, now).dueAt;
    const priority = engine
      ? await engine.priority(task.id)
      : await offlinePriority(config, store, task, state, now);
    out.push({
      id: task.id,
      action: task.action,
      description: task.description,
      schedule: task.schedule?.text ?? null,
      timezone: task.timezone,
      seconds: task.schedule !== null && scheduleHasSeconds(task.schedule),
      enabled: task.enabled,
      group: task.group,
      priority: task.priority,
      score: priority.score,
      nextRunAt: next,
      lastStatus: state?.lastStatus ?? null,
      lastFinishedAt: state?.lastFinishedAt ?? null,
      lastSuccessAt: state?.lastSuccessAt ?? null,
      consecutiveFailures: state?.consecutiveFailures ?? 0,
      paused: pauses.get(task.id) ?? null,
    });
  }
  return out;
}
