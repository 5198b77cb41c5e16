import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/builtin.js';
import { loadedBuiltinRegistry } from '../../src/actions/builtin-loaded.js';
import { configJsonSchema } from '../../src/config/json-schema.js';

describe('caretaker.schema.json', () => {
  const schema = configJsonSchema(loadedBuiltinRegistry().all());

  it('is the committed file (run `npm run schema` after changing a schema)', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../caretaker.schema.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(schema);
  });

  it('describes every action as a task variant with its own options', () => {
    const variants = (
      schema.properties as { tasks: { additionalProperties: { oneOf?: unknown[]; anyOf?: unknown[] } } }
    ).tasks.additionalProperties;
    const list = (variants.oneOf ?? variants.anyOf ?? [variants]) as {
      properties: { action: { const: string }; with: { properties: Record<string, unknown> } };
    }[];
    expect(list.map((v) => v.properties.action.const).sort()).toEqual(
      builtinActions.map((a) => a.name).sort(),
    );
    const shell = list.find((v) => v.properties.action.const === 'shell')!;
    expect(Object.keys(shell.properties.with.properties)).toContain('success_codes');
  });
});
