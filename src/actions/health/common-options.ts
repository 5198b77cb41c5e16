/** Options every check accepts: a name, its own timeout and a remedy to run when it fails. */
import { z } from 'zod';
import { duration } from '../../schema/values.js';
import { rateLimit } from '../../schema/thresholds.js';
import { checkName } from './thresholds.js';

export const remedySchema = z.strictObject({
  run: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
      error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...]',
    })
    .describe('The command that fixes it (Monit’s `then exec`), e.g. "systemctl restart api".'),
  max: rateLimit()
    .optional()
    .describe('At most this often, so a failing remedy never loops. @default "3 in 1h"'),
  timeout: duration().optional().describe('@default 5m'),
});

export const common = {
  name: checkName,
  timeout: duration().optional().describe('This check gives up (and fails) after this long.'),
  on_fail: remedySchema.optional().describe('A command run when this check fails.'),
};

export type Remedy = z.output<typeof remedySchema>;

export interface CommonSpec {
  readonly name?: string;
  readonly timeout?: number;
  readonly on_fail?: Remedy;
}
