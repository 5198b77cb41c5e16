/** The `with:` options of `db-retention`. */
import { z } from 'zod';
import { duration } from '../../schema/values.js';
import { checkOneTarget, dbTargetShape } from '../datastore/db-target.js';

export const schema = z
  .strictObject({
    ...dbTargetShape,
    table: z.string().min(1).describe('The table to trim (PostgreSQL: `schema.table` is accepted).'),
    schema: z.string().min(1).optional().describe('PostgreSQL schema of the table. @default the search path'),
    timestamp_column: z.string().min(1).describe('The column compared with older_than.'),
    timestamp_format: z
      .enum(['iso', 'epoch_s', 'epoch_ms'])
      .optional()
      .describe(
        'How an integer or text timestamp is stored. @default native timestamps; iso for SQLite text',
      ),
    key_column: z
      .string()
      .min(1)
      .optional()
      .describe('Unique, indexed column the batches are ranges of. @default the primary key (SQLite: rowid)'),
    older_than: duration().describe('Rows whose timestamp is older than this are deleted.'),
    batch: z.number().int().min(1).max(100_000).optional().describe('Rows per transaction. @default 5000'),
    pause: duration({ allowZero: true }).optional().describe('Wait between batches. @default 0s'),
    max_rows: z.number().int().min(1).optional().describe('Stop after deleting this many rows in one run.'),
    archive_to: z
      .string()
      .min(1)
      .optional()
      .describe('Directory for the archives; without it rows are only deleted.'),
    archive_format: z.enum(['jsonl', 'csv']).optional().describe('@default jsonl (gzipped either way)'),
    archive_where: z
      .string()
      .min(1)
      .optional()
      .describe(
        'SQL condition on the row: only matching rows are archived (all are deleted). @default all rows',
      ),
    lock_timeout: duration().optional().describe('Longest wait for a row or table lock. @default 5s'),
    statement_timeout: duration().optional().describe('Longest single statement (PostgreSQL). @default 1m'),
  })
  .superRefine((o, ctx) => {
    checkOneTarget(o, ctx);
    for (const key of ['archive_format', 'archive_where'] as const) {
      if (o[key] !== undefined && o.archive_to === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${key} needs archive_to (where the archive goes)`,
        });
      }
    }
    if (o.schema !== undefined && o.path !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['schema'],
        message: 'schema is for PostgreSQL; SQLite has none',
      });
    }
    if (o.archive_where?.includes(';')) {
      ctx.addIssue({
        code: 'custom',
        path: ['archive_where'],
        message: 'expected one SQL condition, without ";"',
      });
    }
  });
