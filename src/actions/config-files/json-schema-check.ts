/**
 * JSON Schema validation with ajv: draft-07 by default, 2019-09 and 2020-12 when the schema's
 * `$schema` says so, formats (email, uri, date-time, …) included. Errors come back as key paths
 * so the caller can put a line and column on them.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { DataPath } from '../../schema/config-files/parsed-file.js';

const addFormats = addFormatsModule.default;

export interface SchemaViolation {
  /** Where the offending value is. */
  readonly path: DataPath;
  /** For unknown and missing keys: the key, so the caller can point at it. */
  readonly key?: string;
  readonly message: string;
}

export class SchemaLoadError extends Error {
  override name = 'SchemaLoadError';
}

function pathOf(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function describe(e: ErrorObject): SchemaViolation {
  const path = pathOf(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return {
        path: [...path, String(p.missingProperty)],
        key: String(p.missingProperty),
        message: `is required by the schema`,
      };
    case 'additionalProperties':
      return {
        path: [...path, String(p.additionalProperty)],
        key: String(p.additionalProperty),
        message: 'is not allowed by the schema (additionalProperties: false)',
      };
    case 'enum':
      return {
        path,
        message: `${e.message ?? 'is not allowed'}: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default:
      return { path, message: e.message ?? `fails ${e.keyword}` };
  }
}

export function compileSchema(schema: unknown, source: string): ValidateFunction {
  if (typeof schema !== 'object' || schema === null)
    throw new SchemaLoadError(`${source}: a JSON Schema must be an object`);
  const declared = String((schema as { $schema?: unknown }).$schema ?? '');
  const options = { allErrors: true, strict: false };
  const ajv = declared.includes('2020-12')
    ? new Ajv2020(options)
    : declared.includes('2019-09')
      ? new Ajv2019(options)
      : new Ajv(options);
  addFormats(ajv);
  try {
    return ajv.compile(schema);
  } catch (err) {
    throw new SchemaLoadError(`${source}: not a usable JSON Schema: ${(err as Error).message}`);
  }
}

export function violations(validate: ValidateFunction, data: unknown): SchemaViolation[] {
  if (validate(data)) return [];
  return (validate.errors ?? []).map(describe);
}
