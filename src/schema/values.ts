/**
 * Reusable schema pieces for caretaker.yaml and for the actions' `with:` options: durations,
 * sizes, path lists. Each carries the message a user sees when the value is wrong.
 */
import { z } from 'zod';
import { DURATION_HINT, DURATION_PATTERN, parseDuration } from '../core/duration.js';
import { SIZE_HINT, parseSize } from '../core/size.js';

/** A duration string → milliseconds. `min` is inclusive (default: more than zero). */
export function duration(opts: { allowZero?: boolean } = {}) {
  return (
    z
      .string({ error: `expected ${DURATION_HINT}` })
      // abort: a refinement of the object around it must not see the text where it expects a number.
      .regex(DURATION_PATTERN, { error: `expected ${DURATION_HINT}`, abort: true })
      .transform((text, ctx) => {
        const ms = parseDuration(text)!;
        if (ms === 0 && !opts.allowZero) {
          ctx.issues.push({ code: 'custom', message: 'must be more than zero', input: text });
          return z.NEVER;
        }
        return ms;
      })
  );
}

/** A size string (`512KB`, `10MB`, `1GB`, 1024-based) or a number of bytes → bytes. */
export function size() {
  return z.union([z.string(), z.number()], { error: `expected ${SIZE_HINT}` }).transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === undefined) {
      ctx.issues.push({ code: 'custom', message: `expected ${SIZE_HINT}`, input: value });
      return z.NEVER;
    }
    return bytes;
  });
}

/** One string or a list of them → a list. */
export function stringList(what = 'a string') {
  return (
    z
      // abort: a refinement of the object around it would get "" where it expects a list
      // (prune-redis's `match: ""` crashed with "o.match.some is not a function").
      .union([z.string().min(1, { abort: true }), z.array(z.string().min(1)).min(1, { abort: true })], {
        error: `expected ${what} or a list of them`,
      })
      .transform((v) => (typeof v === 'string' ? [v] : v))
  );
}

/** An environment map: names to string values (numbers and booleans are turned into strings). */
export function envMap() {
  return z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }),
      z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string value' }),
    )
    .transform((env) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])));
}
