/** The `with:` options of `prune-redis`. */
import { z } from 'zod';
import { duration, stringList } from '../../schema/values.js';

const REDIS_TYPES = ['string', 'list', 'set', 'zset', 'hash', 'stream'] as const;

export const schema = z
  .strictObject({
    url: z
      .string()
      .regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' })
      .optional()
      .describe('Redis URL, database as its path (redis://host:6379/2). @default redis://127.0.0.1:6379'),
    url_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' })
      .optional()
      .describe('Name of an environment variable holding the URL (keeps a password out of the file).'),
    match: stringList('a SCAN pattern such as "cache:*"').describe('Key patterns (SCAN MATCH syntax).'),
    idle_over: duration()
      .optional()
      .describe('Only keys not read or written for this long (OBJECT IDLETIME, 1 s resolution).'),
    ttl_missing_only: z.boolean().optional().describe('Only keys without an expiry. @default false'),
    type: z
      .union([z.enum(REDIS_TYPES), z.array(z.enum(REDIS_TYPES)).min(1)])
      .transform((t) => (typeof t === 'string' ? [t] : t))
      .optional()
      .describe('Only keys of these types. @default any type'),
    batch: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe('SCAN COUNT and keys per UNLINK. @default 500'),
    max_keys: z.number().int().min(1).optional().describe('Most keys removed in one run. @default 100000'),
    rate_limit: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'Most keys examined per second, so the walk never crowds out the application. @default 20000',
      ),
    connect_timeout: duration().optional().describe('@default 5s'),
  })
  .superRefine((o, ctx) => {
    if (o.url !== undefined && o.url_env !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['url_env'], message: 'give only one of url and url_env' });
    }
    const everything = o.match.some((p) => /^\*+$/.test(p));
    if (everything && o.idle_over === undefined && o.ttl_missing_only !== true && o.type === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['match'],
        message:
          '"*" alone would remove every key; narrow it with a prefix, idle_over, ttl_missing_only or type',
      });
    }
  });
