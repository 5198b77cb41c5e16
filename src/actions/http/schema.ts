/** The `with:` options of `http`. */
import { z } from 'zod';
import { statusSpec } from '../http-status.js';
import { duration } from '../../schema/values.js';

export const schema = z.strictObject({
  url: z.url({ error: 'expected an http:// or https:// URL', protocol: /^https?$/ }),
  method: z
    .enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
    .optional()
    .describe('@default GET'),
  headers: z.record(z.string(), z.string()).optional(),
  headers_env: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      'Headers whose values come from environment variables (never logged), e.g. { Authorization: API_AUTH }.',
    ),
  body: z
    .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .optional()
    .describe('A string, or a map sent as JSON.'),
  expect_status: statusSpec.optional().describe('@default "2xx"'),
  expect_body: z.string().optional().describe('Text the response body must contain.'),
  timeout: duration().optional().describe('@default 30s'),
  follow_redirects: z.boolean().optional().describe('@default true'),
});
