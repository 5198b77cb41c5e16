/**
 * caretaker as a library: embed the scheduler in a Node service.
 *
 *   const caretaker = createCaretaker({ configPath: 'caretaker.yaml' });
 *   caretaker.on('run:finished', (run) => console.log(run.task, run.status));
 *   await caretaker.start();
 *
 * What is not exported here is internal.
 */
export { createCaretaker } from './create-caretaker.js';
export {
  Caretaker,
  ManualClock,
  SystemClock,
  type CaretakerOptions,
  type Config,
  type CopyCounts,
  type CopyReport,
  type EngineEvents,
  type EngineStatus,
  type HostMetricsReport,
  type StoreStatus,
  type ManualRunOptions,
  type MetricsReport,
  type PauseOptions,
  type PauseRecord,
  type PriorityBreakdown,
  type RunRecord,
  type RunStatus,
  type RunTrigger,
  type TaskConfig,
  type TaskSummary,
} from './caretaker.js';
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
export type { Clock, TimerHandle } from './core/clock.js';
export type { PriorityTerm } from './core/priority.js';
export type { TaskMetrics } from './report/metrics.js';
export type { HostTaskMetrics } from './report/host-metrics.js';
export type { MissedPolicy, OverlapPolicy, RetryPolicy } from './caretaker.js';
export { ConfigError, type ConfigIssue } from './errors/config-error.js';
export { UsageError } from './errors/usage-error.js';
export { TaskFailedError } from './errors/task-failed-error.js';
export { VERSION } from './version.js';
