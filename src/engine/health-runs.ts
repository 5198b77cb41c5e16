/**
 * The health tasks of a configuration, and the Markdown report every finished health run leaves
 * under `state_dir/reports/` (for people who read reports rather than dashboards).
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { didYouMean } from '../core/did-you-mean.js';
import { NotFoundError, UsageError } from '../errors/usage-error.js';
import { saveHealthReport } from '../report/report-files.js';
import type { RunRecord } from '../store/types.js';

const HEALTH = 'health';

/** The health tasks (all enabled ones, or these ids, each checked to be a health task). */
export function healthTaskIds(config: Config, ids: readonly string[] = []): string[] {
  const health = config.tasks.filter((t) => t.action === HEALTH);
  if (ids.length === 0) return health.filter((t) => t.enabled).map((t) => t.id);
  for (const id of ids) {
    const task = config.tasks.find((t) => t.id === id);
    if (!task)
      throw new NotFoundError(
        `unknown task "${id}"${didYouMean(
          id,
          health.map((t) => t.id),
        )}`,
      );
    if (task.action !== HEALTH)
      throw new UsageError(`task "${id}" is a ${task.action} task, not a health task`);
  }
  return [...ids];
}

/** Saves the report of a finished health run (a failure to save is logged, never thrown). */
export function saveHealthReportOf(config: Config, run: RunRecord, logger: Logger): void {
  if (run.dryRun || run.result === null) return;
  const task = config.tasks.find((t) => t.id === run.task);
  if (task?.action !== HEALTH) return;
  try {
    saveHealthReport(config.stateDir, run, config.host, config.alerting.reports.keep);
  } catch (err) {
    logger.error({ err, run: run.id }, 'could not save the health report');
  }
}
