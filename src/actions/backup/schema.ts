/** The `with:` options of `backup`. */
import { z } from 'zod';
import { stringList } from '../../schema/values.js';
import { hasKeepRule } from '../../core/retention.js';
import { pgSource } from '../../backup/postgres.js';

const count = z.number({ error: 'expected a whole number ≥ 1' }).int().min(1);

const command = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...]',
});

// The messages never echo the value: a URL may carry a password.
const pgUrl = z.string().refine(
  (s) => {
    try {
      pgSource(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected a postgres:// or postgresql:// URL' },
);
const pgEntry = z.union([pgUrl, z.strictObject({ url_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) })], {
  error: 'expected a postgres:// URL or { url_env: VARIABLE } (the URL in an environment variable)',
});

export const backupSchema = z
  .strictObject({
    paths: stringList('a path or glob').optional().describe('Files, directories and globs to archive.'),
    exclude: stringList('a glob')
      .optional()
      .describe(
        'Globs to leave out; without a `/` they match a name at any depth (`*.tmp`, `node_modules`).',
      ),
    dest: z.string().min(1).describe('Directory the archives go to (created when missing).'),
    compression: z
      .union([z.number().int().min(0).max(9), z.literal('none')], {
        error: 'expected a gzip level 0-9, or none for a plain .tar',
      })
      .optional()
      .describe('gzip level, or none. @default 6'),
    threads: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe('Blocks compressed in parallel. @default the number of cores, at most 4'),
    sqlite: stringList('a database file')
      .optional()
      .describe('SQLite databases, copied with the online backup API.'),
    postgres: z
      .union([pgEntry, z.array(pgEntry).min(1)], {
        error: 'expected a postgres:// URL, { url_env: VARIABLE }, or a list of them',
      })
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .optional()
      .describe('PostgreSQL databases, dumped with pg_dump --format=custom.'),
    keep: z
      .strictObject({
        last: count.optional(),
        daily: count.optional(),
        weekly: count.optional(),
        monthly: count.optional(),
        yearly: count.optional(),
      })
      .refine(hasKeepRule, { error: 'needs at least one of last, daily, weekly, monthly, yearly' })
      .optional()
      .describe('Retention, restic forget --keep-* style. @default keep every archive'),
    verify: z
      .boolean()
      .optional()
      .describe('Re-read and check the archive before it gets its final name. @default true'),
    pre: command.optional().describe('Command run before the backup; its failure cancels the backup.'),
    post: command
      .optional()
      .describe('Command run after the backup (also after a failure, once pre has run).'),
  })
  .refine((o) => o.paths !== undefined || o.sqlite !== undefined || o.postgres !== undefined, {
    error: 'nothing to back up: set paths, sqlite or postgres',
  });

export type BackupOptions = z.output<typeof backupSchema>;
