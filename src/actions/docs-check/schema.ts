/** The `with:` options of `docs-check`. */
import { z } from 'zod';
import { duration, stringList } from '../../schema/values.js';

export const schema = z.strictObject({
  paths: stringList('a glob')
    .optional()
    .describe(
      'Markdown files to check, globs relative to root. @default **/*.md (node_modules and .git never)',
    ),
  exclude: stringList('a glob').optional().describe('Globs of files not to check.'),
  root: z
    .string()
    .optional()
    .describe(
      'The repository root: globs and /absolute links resolve against it. @default the config file directory',
    ),
  external: z.boolean().optional().describe('Also check http(s) links. @default false'),
  timeout: duration().optional().describe('Per request, for web links. @default 10s'),
  concurrency: z.number().int().min(1).max(64).optional().describe('Web requests at once. @default 4'),
  per_host_interval: duration({ allowZero: true })
    .optional()
    .describe('At least this long between two requests to one host. @default 200ms'),
  cache_for: duration({ allowZero: true })
    .optional()
    .describe('Web links that answered are not asked again for this long (0: no cache). @default 7d'),
  skip: stringList('a URL prefix')
    .optional()
    .describe('Web links starting with one of these are not checked (e.g. http://localhost).'),
});
