/** The `with:` options of `db-maintain`. */
import { z } from 'zod';
import { duration, stringList } from '../../schema/values.js';
import { checkOneTarget, dbTargetShape } from '../datastore/db-target.js';
import { PG_OPERATIONS, SQLITE_OPERATIONS } from '../datastore/maintain-operations.js';

const ALL_OPERATIONS = [
  'analyze',
  'vacuum',
  'vacuum_full',
  'reindex',
  'integrity_check',
  'optimize',
  'wal_checkpoint',
] as const;

export const schema = z
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
