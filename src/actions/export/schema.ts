/** The `with:` options of `export`. */
import { z } from 'zod';
import { EXPORT_FORMATS } from '../../core/dataset.js';

export const schema = z.strictObject({
  source: z
    .string()
    .min(1)
    .describe('history, metrics, or a JSON / JSON Lines file (relative to the config file).'),
  format: z
    .union([z.enum(EXPORT_FORMATS), z.array(z.enum(EXPORT_FORMATS)).min(1)], {
      error: 'expected csv, json or md, or a list of them',
    })
    .transform((v) => (Array.isArray(v) ? [...new Set(v)] : [v]))
    .optional()
    .describe('@default csv'),
  output: z.string().min(1).describe('Directory the files are written to (created when missing).'),
  days: z.number().int().min(1).optional().describe('history and metrics: this many days back. @default 30'),
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'expected a file name without a directory' })
    .optional()
    .describe('Base name of the files. @default the source (history, metrics, or the file name)'),
  fields: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Columns, in order. @default every field, as first seen'),
  timestamp: z.boolean().optional().describe('Snapshots: add the time to the file name. @default false'),
  keep: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Snapshots kept per format (with timestamp: true). @default 30'),
});
