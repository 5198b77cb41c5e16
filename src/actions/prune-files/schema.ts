/** The `with:` options of `prune-files`. */
import { z } from 'zod';
import { duration, size, stringList } from '../../schema/values.js';

export const schema = z
  .strictObject({
    paths: stringList('a directory or a glob').describe(
      'Directories (everything below them) or globs (files, or directories whose whole content is selected).',
    ),
    include: stringList('a glob')
      .optional()
      .describe(
        'Only files matching one of these (relative to the root; no "/" = the file name at any depth).',
      ),
    exclude: stringList('a glob')
      .optional()
      .describe('Never files (or directories) matching one of these. @default none'),
    older_than: duration().optional().describe('Remove files whose time is older than this.'),
    by: z
      .enum(['mtime', 'atime'], { error: 'expected mtime or atime' })
      .optional()
      .describe('Which time older_than, keep_newest and max_total_size go by. @default mtime'),
    max_total_size: size()
      .optional()
      .describe('Evict the oldest selected files (all roots together) until they fit in this size.'),
    keep_newest: z
      .number({ error: 'expected a whole number of files' })
      .int({ error: 'expected a whole number of files' })
      .min(0)
      .optional()
      .describe('Always keep the newest N selected files of each directory; alone, remove the rest.'),
    remove_empty_dirs: z
      .boolean()
      .optional()
      .describe('Remove directories left empty (never a root itself). @default false'),
    archive_to: z
      .string()
      .min(1)
      .optional()
      .describe('Move files into ARCHIVE/YYYY-MM-DD/<root path>/… instead of deleting them.'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .optional()
      .describe('File system calls (lstat, unlink) in flight at once. @default 64'),
  })
  .refine(
    (o) => o.older_than !== undefined || o.max_total_size !== undefined || o.keep_newest !== undefined,
    {
      error:
        'give at least one of older_than, max_total_size or keep_newest (with none, nothing would be pruned)',
    },
  );
