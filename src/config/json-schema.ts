/**
 * caretaker.schema.json for editors (YAML language servers), generated from the same schemas
 * that validate the file: one task variant per action, so `with:` completes per action.
 */
import { z } from 'zod';
import type { AnyAction } from '../actions/types.js';
import { configSchema, taskSchema } from './schema.js';

export function configJsonSchema(actions: readonly AnyAction[]): Record<string, unknown> {
  const variants = actions.map((a) =>
    taskSchema.extend({
      action: z.literal(a.name).describe(a.description),
      with: (a.schema as z.ZodType).optional(),
    }),
  );
  const task =
    variants.length === 1
      ? variants[0]!
      : z.discriminatedUnion('action', variants as [(typeof variants)[0], ...typeof variants]);
  const full = configSchema.extend({ tasks: z.record(z.string(), task) });
  return {
    ...z.toJSONSchema(full, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://caretaker.dev/caretaker.schema.json',
    title: 'caretaker.yaml',
  };
}
