/** The `with:` options of `module`. */
import { z } from 'zod';

export const schema = z.strictObject({
  path: z.string().min(1).describe('The module file, relative to the config file (.js, .mjs, .ts, .mts).'),
  export: z.string().min(1).optional().describe('The exported function to call. @default default'),
  config: z.unknown().optional().describe('Passed to the function as its first argument.'),
  dry_run: z
    .enum(['skip', 'call'])
    .optional()
    .describe('In a dry run: skip the call (report it), or call it with ctx.dryRun = true. @default skip'),
});
