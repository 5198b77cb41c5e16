/**
 * Turns zod's issues into the messages caretaker prints: what is wrong, what was expected, what
 * was found, and "did you mean" for misspelt keys and values.
 */
import type { z } from 'zod';
import { closest } from '../core/did-you-mean.js';
import { redactUrl } from '../core/redact-url.js';
import type { KeyPath } from './source-map.js';
import { plural } from '../core/plural.js';

export interface PathMessage {
  readonly path: KeyPath;
  readonly message: string;
  /** Set for an unknown key: the position is the key's, not the value's. */
  readonly key?: string;
}

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

export function describeValue(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null (an empty value)';
  if (typeof input === 'string') {
    // An error message must not print a password a URL carries (postgres://user:secret@db/x).
    const shown = /:\/\//.test(input) ? redactUrl(input) : input;
    return `"${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}"`;
  }
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a map';
  return String(input);
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a map of keys',
  record: 'a map of keys',
  array: 'a list',
  null: 'null',
};

function bound(value: unknown, inclusive: boolean | undefined, above: boolean): string {
  return `${above ? (inclusive ? '≥' : '>') : inclusive ? '≤' : '<'} ${String(value)}`;
}

/** The parse-time error map: our wording for every issue a schema did not word itself. */
export function errorMap(iss: RawIssue): string {
  const got = `, got ${describeValue(iss.input)}`;
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return `is required (expected ${EXPECTED[iss.expected] ?? iss.expected})`;
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}${got}`;
    case 'invalid_value': {
      const values = iss.values.map((v) => (typeof v === 'string' ? v : String(v)));
      if (values.length === 1) return `expected ${values[0]}${got}`;
      const hint = typeof iss.input === 'string' ? closest(iss.input, values) : undefined;
      return `expected one of ${values.join(', ')}${got}${hint ? ` (did you mean "${hint}"?)` : ''}`;
    }
    case 'too_small':
      if (iss.origin === 'string')
        return Number(iss.minimum) <= 1 ? 'must not be empty' : `must be at least ${iss.minimum} characters`;
      if (iss.origin === 'array' || iss.origin === 'set')
        return `expected at least ${plural(Number(iss.minimum), 'item')}`;
      return `expected a number ${bound(iss.minimum, iss.inclusive, true)}${got}`;
    case 'too_big':
      if (iss.origin === 'string') return `must be at most ${plural(Number(iss.maximum), 'character')}`;
      if (iss.origin === 'array' || iss.origin === 'set')
        return `expected at most ${plural(Number(iss.maximum), 'item')}`;
      return `expected a number ${bound(iss.maximum, iss.inclusive, false)}${got}`;
    case 'invalid_format':
      return `has the wrong format${got}`;
    case 'not_multiple_of':
      return `expected a multiple of ${String(iss.divisor)}${got}`;
    case 'invalid_union':
      return `does not match any allowed form${got}`;
    case 'invalid_key':
      return `has an invalid key${got}`;
    default:
      return `is invalid${got}`;
  }
}

/** The keys an object schema accepts at `path`, for "did you mean". */
export function knownKeysAt(schema: z.ZodType, path: KeyPath): string[] {
  const keys = new Set<string>();
  const visit = (node: z.core.$ZodType | undefined, rest: KeyPath) => {
    if (!node) return;
    const def = node._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        return visit(def.innerType as z.core.$ZodType, rest);
      case 'pipe':
        return visit(def.in as z.core.$ZodType, rest);
      case 'lazy':
        return visit((def.getter as () => z.core.$ZodType)(), rest);
      case 'union':
        for (const option of def.options as z.core.$ZodType[]) visit(option, rest);
        return;
      case 'object': {
        const shape = def.shape as Record<string, z.core.$ZodType>;
        if (rest.length === 0) for (const k of Object.keys(shape)) keys.add(k);
        else visit(shape[String(rest[0])], rest.slice(1));
        return;
      }
      case 'record':
        if (rest.length > 0) visit(def.valueType as z.core.$ZodType, rest.slice(1));
        return;
      case 'array':
        if (rest.length > 0) visit(def.element as z.core.$ZodType, rest.slice(1));
        return;
    }
  };
  visit(schema, path);
  return [...keys];
}

/** Flattens zod issues into positioned messages. */
export function describeIssues(
  issues: readonly Issue[],
  schema: z.ZodType,
  prefix: KeyPath = [],
): PathMessage[] {
  const out: PathMessage[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path as (string | number)[]);
      for (const key of issue.keys) {
        const hint = closest(key, known);
        out.push({
          path: [...path, key],
          key,
          message:
            `unknown key "${key}"` +
            (hint
              ? ` (did you mean "${hint}"?)`
              : known.length > 0
                ? `; expected one of ${known.join(', ')}`
                : ''),
        });
      }
    } else if (issue.code === 'invalid_key' || issue.code === 'invalid_element') {
      const nested = describeIssues(issue.issues, schema, []);
      const key = String('key' in issue ? issue.key : issue.input);
      for (const n of nested) out.push({ path: [...path, key], key, message: `key "${key}": ${n.message}` });
    } else if (issue.code === 'invalid_union' && deeperBranch(issue.errors)) {
      // The value has the shape of one branch (a map for `retries: { … }`) but fails inside it:
      // that branch's own problems say more than "does not match any allowed form".
      const branch = deeperBranch(issue.errors)!.map((i) =>
        /^Invalid input/.test(i.message) ? { ...i, message: errorMap(i as RawIssue) } : i,
      );
      out.push(...describeIssues(branch, schema, path));
    } else if (
      issue.code === 'invalid_type' &&
      issue.input === undefined &&
      !issue.message.startsWith('is required')
    ) {
      // A schema's own wording ("expected the name of an action") still needs to say it is missing.
      out.push({ path, message: `is required (${issue.message})` });
    } else {
      // A nested action's unknown key, reported by a composite action's schema (runbook steps).
      const key = issue.code === 'custom' ? (issue.params as { key?: unknown } | undefined)?.key : undefined;
      out.push(
        typeof key === 'string' ? { path, key, message: issue.message } : { path, message: issue.message },
      );
    }
  }
  return out;
}

/** The single union branch that failed below its root (its shape matched), if exactly one did. */
function deeperBranch(branches: readonly (readonly Issue[])[]): Issue[] | undefined {
  const deeper = branches.filter(
    (b) => b.length > 0 && !(b.length === 1 && b[0]!.path.length === 0 && b[0]!.code === 'invalid_type'),
  );
  return deeper.length === 1 ? [...deeper[0]!] : undefined;
}
