/** The `with:` options of `validate-config`. */
import { z } from 'zod';
import { stringList } from '../../schema/values.js';
import { CONFIG_FORMATS } from '../../schema/config-files/parsed-file.js';

const keyPaths = stringList('a key path such as materials.*.density');
const fileSpec = z.union(
  [
    z.string().min(1),
    z.strictObject({
      path: z.string().min(1).describe('A file or glob, relative to the config file.'),
      format: z.enum(CONFIG_FORMATS).optional().describe('@default from the file name'),
      schema: z.string().min(1).optional().describe('A JSON Schema (JSON or YAML file) for this file.'),
      required: keyPaths.optional().describe('Key paths this file must have; * matches any key or item.'),
    }),
  ],
  { error: 'expected a file path or glob, or { path, format, schema, required }' },
);

export const schema = z.strictObject({
  files: z
    .union([z.string().min(1), z.array(fileSpec).min(1)], {
      error: 'expected a file, a glob, or a list of them',
    })
    .transform((f) => (typeof f === 'string' ? [f] : f))
    .describe('Files or globs (YAML, JSON, TOML, .env), or { path, format, schema, required } per file.'),
  format: z.enum(CONFIG_FORMATS).optional().describe('Format of every file. @default from each file name'),
  schema: z
    .string()
    .min(1)
    .optional()
    .describe('A JSON Schema every file must satisfy (per-file schema wins).'),
  required: keyPaths.optional().describe('Key paths every file must have, e.g. materials.*.density.'),
  required_env: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }))
    .optional()
    .describe('Environment variables that must be set; only presence and length are reported.'),
  baseline: z
    .union(
      [
        z.boolean(),
        z.strictObject({
          on_drift: z.enum(['warn', 'fail']).optional().describe('@default warn'),
          update: z
            .boolean()
            .optional()
            .describe('Adopt the current content as the new baseline after reporting drift. @default false'),
        }),
      ],
      { error: 'expected true, or { on_drift: warn|fail, update: true|false }' },
    )
    .optional()
    .describe('Record checksums and keys on the first run; report drift key by key afterwards.'),
});
