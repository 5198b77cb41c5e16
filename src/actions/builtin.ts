/**
 * The built-in actions. A new action joins this list, `caretaker init`'s set and the docs.
 * Each is its declaration (name, schema, …; imported here) and its implementation, imported on the
 * action's first run: loading a config costs only the schemas.
 */
import { auditDepsDeclaration } from './audit-deps/declaration.js';
import { backupDeclaration } from './backup/declaration.js';
import { codeQualityDeclaration } from './code-quality/declaration.js';
import { dbMaintainDeclaration } from './db-maintain/declaration.js';
import { dbRetentionDeclaration } from './db-retention/declaration.js';
import { lazyAction } from './declaration.js';
import { docsCheckDeclaration } from './docs-check/declaration.js';
import { exportDeclaration } from './export/declaration.js';
import { healthDeclaration } from './health/declaration.js';
import { httpDeclaration } from './http/declaration.js';
import { licenseCheckDeclaration } from './license-check/declaration.js';
import { moduleDeclaration } from './module/declaration.js';
import { pruneFilesDeclaration } from './prune-files/declaration.js';
import { pruneRedisDeclaration } from './prune-redis/declaration.js';
import { ActionRegistry } from './registry.js';
import { rollingRestartDeclaration } from './rolling-restart/declaration.js';
import { rotateLogsDeclaration } from './rotate-logs/declaration.js';
import { runbookDeclaration } from './runbook/declaration.js';
import { scanLogsDeclaration } from './scan-logs/declaration.js';
import { shellDeclaration } from './shell/declaration.js';
import { testHealthDeclaration } from './test-health/declaration.js';
import type { AnyAction } from './types.js';
import { validateConfigDeclaration } from './validate-config/declaration.js';
import { verifyBackupsDeclaration } from './verify-backups/declaration.js';

export const builtinActions: readonly AnyAction[] = [
  // run anything
  lazyAction(shellDeclaration, async () => (await import('./shell.js')).shellAction),
  lazyAction(httpDeclaration, async () => (await import('./http.js')).httpAction),
  lazyAction(moduleDeclaration, async () => (await import('./module.js')).moduleAction),
  // logs and caches
  lazyAction(rotateLogsDeclaration, async () => (await import('./rotate-logs.js')).rotateLogsAction),
  lazyAction(pruneFilesDeclaration, async () => (await import('./prune-files.js')).pruneFilesAction),
  lazyAction(scanLogsDeclaration, async () => (await import('./scan-logs.js')).scanLogsAction),
  // backups
  lazyAction(backupDeclaration, async () => (await import('./backup.js')).backupAction),
  lazyAction(verifyBackupsDeclaration, async () => (await import('./verify-backups.js')).verifyBackupsAction),
  // checks, alerts, reports
  lazyAction(healthDeclaration, async () => (await import('./health/health.js')).healthAction),
  lazyAction(exportDeclaration, async () => (await import('./export.js')).exportAction),
  // safe changes
  lazyAction(runbookDeclaration, async () => (await import('./runbook.js')).runbookAction),
  lazyAction(
    validateConfigDeclaration,
    async () => (await import('./validate-config.js')).validateConfigAction,
  ),
  lazyAction(auditDepsDeclaration, async () => (await import('./audit-deps.js')).auditDepsAction),
  // data stores and processes
  lazyAction(dbMaintainDeclaration, async () => (await import('./db-maintain.js')).dbMaintainAction),
  lazyAction(dbRetentionDeclaration, async () => (await import('./db-retention.js')).dbRetentionAction),
  lazyAction(pruneRedisDeclaration, async () => (await import('./prune-redis.js')).pruneRedisAction),
  lazyAction(
    rollingRestartDeclaration,
    async () => (await import('./rolling-restart.js')).rollingRestartAction,
  ),
  // repository upkeep
  lazyAction(codeQualityDeclaration, async () => (await import('./code-quality.js')).codeQualityAction),
  lazyAction(testHealthDeclaration, async () => (await import('./test-health.js')).testHealthAction),
  lazyAction(docsCheckDeclaration, async () => (await import('./docs-check.js')).docsCheckAction),
  lazyAction(licenseCheckDeclaration, async () => (await import('./license-check.js')).licenseCheckAction),
];

export function builtinRegistry(extra: Iterable<AnyAction> = []): ActionRegistry {
  return new ActionRegistry([...builtinActions, ...extra]);
}
