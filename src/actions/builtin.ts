/** The built-in actions. A new action joins this list, `caretaker init`'s set and the docs. */
import { auditDepsAction } from './audit-deps.js';
import { backupAction } from './backup.js';
import { codeQualityAction } from './code-quality.js';
import { dbMaintainAction } from './db-maintain.js';
import { dbRetentionAction } from './db-retention.js';
import { docsCheckAction } from './docs-check.js';
import { exportAction } from './export.js';
import { healthAction } from './health/health.js';
import { httpAction } from './http.js';
import { licenseCheckAction } from './license-check.js';
import { moduleAction } from './module.js';
import { pruneFilesAction } from './prune-files.js';
import { pruneRedisAction } from './prune-redis.js';
import { ActionRegistry } from './registry.js';
import { rollingRestartAction } from './rolling-restart.js';
import { rotateLogsAction } from './rotate-logs.js';
import { runbookAction } from './runbook.js';
import { scanLogsAction } from './scan-logs.js';
import { shellAction } from './shell.js';
import { testHealthAction } from './test-health.js';
import type { AnyAction } from './types.js';
import { validateConfigAction } from './validate-config.js';
import { verifyBackupsAction } from './verify-backups.js';

export const builtinActions: readonly AnyAction[] = [
  // run anything
  shellAction,
  httpAction,
  moduleAction,
  // logs and caches
  rotateLogsAction,
  pruneFilesAction,
  scanLogsAction,
  // backups
  backupAction,
  verifyBackupsAction,
  // checks, alerts, reports
  healthAction,
  exportAction,
  // safe changes
  runbookAction,
  validateConfigAction,
  auditDepsAction,
  // data stores and processes
  dbMaintainAction,
  dbRetentionAction,
  pruneRedisAction,
  rollingRestartAction,
  // repository upkeep
  codeQualityAction,
  testHealthAction,
  docsCheckAction,
  licenseCheckAction,
];

export function builtinRegistry(extra: Iterable<AnyAction> = []): ActionRegistry {
  return new ActionRegistry([...builtinActions, ...extra]);
}
