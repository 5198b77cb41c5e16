/**
 * The built-in actions. A new action joins this list, `caretaker init`'s set and the docs.
 * Each is known here by name only: its declaration (name, schema, …) is imported when a config
 * names the action (`ActionRegistry.load`), its implementation on the action's first run. So
 * loading a config costs only the schemas of the actions it names, and a command that loads no
 * config (or asks the daemon) pays for none. `builtin-loaded.ts` is the same set with every
 * declaration imported up front, for the library's synchronous `createCaretaker`.
 */
import type { ActionDeclaration, ComposedDeclaration } from './declaration.js';
import { ActionRegistry, type DeferredAction } from './registry.js';
import type { AnyAction } from './types.js';

function deferred(
  name: string,
  declaration: () => Promise<ActionDeclaration | ComposedDeclaration>,
  implementation: () => Promise<AnyAction>,
): DeferredAction {
  return { name, deferred: true, declaration, implementation };
}

export const builtinActions: readonly DeferredAction[] = [
  // run anything
  deferred(
    'shell',
    async () => (await import('./shell/declaration.js')).shellDeclaration,
    async () => (await import('./shell.js')).shellAction,
  ),
  deferred(
    'http',
    async () => (await import('./http/declaration.js')).httpDeclaration,
    async () => (await import('./http.js')).httpAction,
  ),
  deferred(
    'module',
    async () => (await import('./module/declaration.js')).moduleDeclaration,
    async () => (await import('./module.js')).moduleAction,
  ),
  // logs and caches
  deferred(
    'rotate-logs',
    async () => (await import('./rotate-logs/declaration.js')).rotateLogsDeclaration,
    async () => (await import('./rotate-logs.js')).rotateLogsAction,
  ),
  deferred(
    'prune-files',
    async () => (await import('./prune-files/declaration.js')).pruneFilesDeclaration,
    async () => (await import('./prune-files.js')).pruneFilesAction,
  ),
  deferred(
    'scan-logs',
    async () => (await import('./scan-logs/declaration.js')).scanLogsDeclaration,
    async () => (await import('./scan-logs.js')).scanLogsAction,
  ),
  // backups
  deferred(
    'backup',
    async () => (await import('./backup/declaration.js')).backupDeclaration,
    async () => (await import('./backup.js')).backupAction,
  ),
  deferred(
    'verify-backups',
    async () => (await import('./verify-backups/declaration.js')).verifyBackupsDeclaration,
    async () => (await import('./verify-backups.js')).verifyBackupsAction,
  ),
  // checks, alerts, reports
  deferred(
    'health',
    async () => (await import('./health/declaration.js')).healthDeclaration,
    async () => (await import('./health/health.js')).healthAction,
  ),
  deferred(
    'export',
    async () => (await import('./export/declaration.js')).exportDeclaration,
    async () => (await import('./export.js')).exportAction,
  ),
  // safe changes
  deferred(
    'runbook',
    async () => (await import('./runbook/declaration.js')).runbookDeclaration,
    async () => (await import('./runbook.js')).runbookAction,
  ),
  deferred(
    'validate-config',
    async () => (await import('./validate-config/declaration.js')).validateConfigDeclaration,
    async () => (await import('./validate-config.js')).validateConfigAction,
  ),
  deferred(
    'audit-deps',
    async () => (await import('./audit-deps/declaration.js')).auditDepsDeclaration,
    async () => (await import('./audit-deps.js')).auditDepsAction,
  ),
  // data stores and processes
  deferred(
    'db-maintain',
    async () => (await import('./db-maintain/declaration.js')).dbMaintainDeclaration,
    async () => (await import('./db-maintain.js')).dbMaintainAction,
  ),
  deferred(
    'db-retention',
    async () => (await import('./db-retention/declaration.js')).dbRetentionDeclaration,
    async () => (await import('./db-retention.js')).dbRetentionAction,
  ),
  deferred(
    'prune-redis',
    async () => (await import('./prune-redis/declaration.js')).pruneRedisDeclaration,
    async () => (await import('./prune-redis.js')).pruneRedisAction,
  ),
  deferred(
    'rolling-restart',
    async () => (await import('./rolling-restart/declaration.js')).rollingRestartDeclaration,
    async () => (await import('./rolling-restart.js')).rollingRestartAction,
  ),
  // repository upkeep
  deferred(
    'code-quality',
    async () => (await import('./code-quality/declaration.js')).codeQualityDeclaration,
    async () => (await import('./code-quality.js')).codeQualityAction,
  ),
  deferred(
    'test-health',
    async () => (await import('./test-health/declaration.js')).testHealthDeclaration,
    async () => (await import('./test-health.js')).testHealthAction,
  ),
  deferred(
    'docs-check',
    async () => (await import('./docs-check/declaration.js')).docsCheckDeclaration,
    async () => (await import('./docs-check.js')).docsCheckAction,
  ),
  deferred(
    'license-check',
    async () => (await import('./license-check/declaration.js')).licenseCheckDeclaration,
    async () => (await import('./license-check.js')).licenseCheckAction,
  ),
];

/** The built-in actions (and these), each declaration imported when a config names it. */
export function builtinRegistry(extra: Iterable<AnyAction> = []): ActionRegistry {
  return new ActionRegistry([...builtinActions, ...extra]);
}
