/**
 * caretaker as a library: embed the scheduler in a Node service.
 *
 *   const caretaker = createCaretaker({ configPath: 'caretaker.yaml' });
 *   caretaker.on('run:finished', (run) => console.log(run.task, run.status));
 *   await caretaker.start();
 *
 * What is not exported here is internal.
 */
export { createCaretaker, Caretaker, type CaretakerOptions, type TaskSummary } from './caretaker.js';
export type {
  Action,
  ActionContext,
  ActionResult,
  Finding,
  Progress,
  TaskHistory,
  PastRun,
} from './actions/types.js';
export { defineAction } from './actions/types.js';
export type { ModuleFunction, ModuleOutcome } from './actions/module.js';
export type { Config, TaskConfig, MissedPolicy, OverlapPolicy, RetryPolicy } from './config/types.js';
export type { Clock, TimerHandle } from './core/clock.js';
export { ManualClock, SystemClock } from './engine/clock.js';
export type { EngineEvents } from './engine/engine.js';
export type { PriorityBreakdown, PriorityTerm } from './core/priority.js';
export type { RunRecord, RunStatus, RunTrigger } from './store/types.js';
export type { MetricsReport, TaskMetrics } from './report/metrics.js';
export { ConfigError, type ConfigIssue } from './errors/config-error.js';
export { UsageError } from './errors/usage-error.js';
export { TaskFailedError } from './errors/task-failed-error.js';
export { VERSION } from './version.js';
