/**
 * `db-maintain`: VACUUM / ANALYZE / REINDEX on PostgreSQL, integrity_check / optimize / analyze /
 * VACUUM / wal_checkpoint on SQLite, with before/after figures so the operator sees what it did.
 * The SQL lives in datastore/maintain-postgres.ts and datastore/maintain-sqlite.ts.
 */
import { statfs as fsStatfs } from 'node:fs/promises';
import { z } from 'zod';
import { duration, stringList } from '../config/schema-types.js';
import { checkOneTarget, dbTargetShape, resolveDbTarget } from './datastore/db-target.js';
import { maintainPostgres, PG_OPERATIONS } from './datastore/maintain-postgres.js';
import { maintainSqlite, SQLITE_OPERATIONS, type FreeSpace } from './datastore/maintain-sqlite.js';
import { defineAction } from './types.js';

const ALL_OPERATIONS = [
  'analyze',
  'vacuum',
  'vacuum_full',
  'reindex',
  'integrity_check',
  'optimize',
  'wal_checkpoint',
] as const;

const schema = z
  .strictObject({
    ...dbTargetShape,
    tables: stringList('a table name')
      .optional()
      .describe('PostgreSQL tables (`name` or `schema.name`). @default every user table of the database'),
    operations: z
      .array(z.enum(ALL_OPERATIONS as unknown as [string, ...string[]]))
      .min(1)
      .optional()
      .describe(
        'PostgreSQL: analyze, vacuum, vacuum_full, reindex (@default [vacuum, analyze]). SQLite: integrity_check, optimize, analyze, vacuum, wal_checkpoint (@default [integrity_check, optimize]).',
      ),
    allow_exclusive_lock: z
      .boolean()
      .optional()
      .describe(
        'Opt-in for operations that block the table (vacuum_full; REINDEX before PostgreSQL 12). @default false',
      ),
    lock_timeout: duration()
      .optional()
      .describe('Give up on a table whose lock is not free within this. @default 5s'),
    statement_timeout: duration().optional().describe('Longest single statement (PostgreSQL). @default 30m'),
  })
  .superRefine((o, ctx) => {
    checkOneTarget(o, ctx);
    const sqlite = o.path !== undefined;
    const allowed: readonly string[] = sqlite ? SQLITE_OPERATIONS : PG_OPERATIONS;
    for (const [i, op] of (o.operations ?? []).entries()) {
      if (!allowed.includes(op)) {
        ctx.addIssue({
          code: 'custom',
          path: ['operations', i],
          message: `${op} is not a ${sqlite ? 'SQLite' : 'PostgreSQL'} operation; expected one of ${allowed.join(', ')}`,
        });
      }
    }
    if (sqlite && o.tables !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tables'],
        message: 'tables is for PostgreSQL; SQLite operations cover the whole file',
      });
    }
    if (o.operations?.includes('vacuum_full') && o.allow_exclusive_lock !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['operations'],
        message:
          'vacuum_full rewrites each table under an ACCESS EXCLUSIVE lock (no reads or writes until it ends); ' +
          'set allow_exclusive_lock: true to opt in, or use vacuum',
      });
    }
  });

export interface DbMaintainDeps {
  /** Free bytes for the filesystem holding `dir` (injected by tests: a nearly full disk cannot be made here). */
  readonly freeSpace: FreeSpace;
}

const realFreeSpace: FreeSpace = async (dir) => {
  const s = await fsStatfs(dir);
  return s.bavail * s.bsize;
};

export function createDbMaintainAction(deps: DbMaintainDeps = { freeSpace: realFreeSpace }) {
  return defineAction({
    name: 'db-maintain',
    description: 'VACUUM / ANALYZE / REINDEX (PostgreSQL), integrity_check / VACUUM / ANALYZE (SQLite)',
    schema,
    category: 'database',
    async run(ctx, o) {
      const target = resolveDbTarget(o, ctx.resolvePath);
      if ('error' in target) return { ok: false, summary: target.error, changed: false };
      const lockTimeoutMs = o.lock_timeout ?? 5_000;
      if (target.kind === 'sqlite') {
        return maintainSqlite(ctx, {
          path: target.path,
          operations: o.operations ?? ['integrity_check', 'optimize'],
          lockTimeoutMs,
          freeSpace: deps.freeSpace,
        });
      }
      return maintainPostgres(ctx, {
        url: target.url,
        shown: target.shown,
        tables: o.tables,
        operations: o.operations ?? ['vacuum', 'analyze'],
        allowExclusiveLock: o.allow_exclusive_lock === true,
        lockTimeoutMs,
        statementTimeoutMs: o.statement_timeout ?? 30 * 60_000,
      });
    },
  });
}

export const dbMaintainAction = createDbMaintainAction();
