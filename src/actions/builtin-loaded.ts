/**
 * The built-in actions with every declaration imported up front: what the library's synchronous
 * `createCaretaker` uses, so that a config naming any action loads without an await. The command
 * line and the daemon use `builtinRegistry()` (builtin.ts), which imports only the declarations
 * a config names. Implementations still load on each action's first run.
 */
import { auditDepsDeclaration } from './audit-deps/declaration.js';
import { backupDeclaration } from './backup/declaration.js';
import { codeQualityDeclaration } from './code-quality/declaration.js';
import { dbMaintainDeclaration } from './db-maintain/declaration.js';
import { dbRetentionDeclaration } from './db-retention/declaration.js';
import { docsCheckDeclaration } from './docs-check/declaration.js';
import { exportDeclaration } from './export/declaration.js';
import { healthDeclaration } from './health/declaration.js';
import { httpDeclaration } from './http/declaration.js';
import { licenseCheckDeclaration } from './license-check/declaration.js';
import { moduleDeclaration } from './module/declaration.js';
import { pruneFilesDeclaration } from './prune-files/declaration.js';
import { pruneRedisDeclaration } from './prune-redis/declaration.js';
import { rollingRestartDeclaration } from './rolling-restart/declaration.js';
import { rotateLogsDeclaration } from './rotate-logs/declaration.js';
import { runbookDeclaration } from './runbook/declaration.js';
import { scanLogsDeclaration } from './scan-logs/declaration.js';
import { shellDeclaration } from './shell/declaration.js';
import { testHealthDeclaration } from './test-health/declaration.js';
import { validateConfigDeclaration } from './validate-config/declaration.js';
import { verifyBackupsDeclaration } from './verify-backups/declaration.js';
import { builtinActions } from './builtin.js';
import type { ActionDeclaration, ComposedDeclaration } from './declaration.js';
import { ActionRegistry } from './registry.js';
import type { AnyAction } from './types.js';

const declarations: readonly (ActionDeclaration | ComposedDeclaration)[] = [
  shellDeclaration,
  httpDeclaration,
  moduleDeclaration,
  rotateLogsDeclaration,
  pruneFilesDeclaration,
  scanLogsDeclaration,
  backupDeclaration,
  verifyBackupsDeclaration,
  healthDeclaration,
  exportDeclaration,
  runbookDeclaration,
  validateConfigDeclaration,
  auditDepsDeclaration,
  dbMaintainDeclaration,
  dbRetentionDeclaration,
  pruneRedisDeclaration,
  rollingRestartDeclaration,
  codeQualityDeclaration,
  testHealthDeclaration,
  docsCheckDeclaration,
  licenseCheckDeclaration,
];

/** The built-in actions (and these), every declaration loaded. */
export function loadedBuiltinRegistry(extra: Iterable<AnyAction> = []): ActionRegistry {
  const registry = new ActionRegistry([...builtinActions, ...extra]);
  for (const d of declarations)
    registry.provide(d, builtinActions.find((a) => a.name === d.name)!.implementation);
  return registry;
}
