/**
 * `json_file`: a value an application writes about itself (e.g. cache/stats.json → hit_rate),
 * read by a path and judged against bounds; optionally the file must be fresh.
 */
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { duration } from '../../schema/values.js';
import { formatDuration } from '../../core/duration.js';
import { defineCheck, worst, type CheckStatus } from './check-types.js';
import { common } from './common-options.js';
import { lookup } from './json-path.js';
import { boundsSchema, describeBounds, judgeBounds, type Bounds } from './thresholds.js';

/** Which way is good, from the bounds: a lower bound means higher is better. */
export function betterOf(b: Bounds): 'lower' | 'higher' | undefined {
  if (b.warn_below !== undefined || b.fail_below !== undefined) return 'higher';
  if (b.warn_above !== undefined || b.fail_above !== undefined) return 'lower';
  return undefined;
}

export const jsonFileCheck = defineCheck({
  kind: 'json_file',
  schema: z.strictObject({
    path: z.string().min(1).describe('The JSON file, relative to the config file.'),
    key: z.string().min(1).describe('Where the value is: hit_rate, stats.hit_rate, or /stats/hit_rate.'),
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    max_age: duration().optional().describe('Fail when the file was not written for this long.'),
    ...boundsSchema,
    ...common,
  }),
  defaultTimeoutMs: 5_000,
  nameOf: (s) => `${s.path}#${s.key}`,
  async run(s, ctx) {
    const file = ctx.resolvePath(s.path);
    let doc: unknown;
    let mtime: number;
    try {
      const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
      mtime = st.mtimeMs;
      doc = JSON.parse(text);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { status: 'fail', value: null, message: `${s.path}: ${e.code ?? e.message.split('\n')[0]}` };
    }
    const got = lookup(doc, s.key);
    if (!got.found) return { status: 'fail', value: null, message: `${s.path}: ${s.key} is missing` };
    const problems: string[] = [];
    let status: CheckStatus = 'ok';
    const age = ctx.clock.now() - mtime;
    if (s.max_age !== undefined && age > s.max_age) {
      status = 'fail';
      problems.push(`not updated for ${formatDuration(age)} (max_age ${formatDuration(s.max_age)})`);
    }
    if (s.equals !== undefined && got.value !== s.equals) {
      status = 'fail';
      problems.push(`expected ${JSON.stringify(s.equals)}`);
    }
    const value = got.value;
    if (typeof value === 'number') status = worst(status, judgeBounds(value, s));
    else if (describeBounds(s) !== undefined) {
      status = 'fail';
      problems.push('not a number');
    }
    const scalar =
      typeof value === 'object' && value !== null
        ? JSON.stringify(value)
        : (value as string | number | boolean | null);
    return {
      status,
      value: scalar,
      thresholds: describeBounds(s),
      message: `${s.key} = ${JSON.stringify(value)}${problems.length ? `: ${problems.join('; ')}` : ''}`,
      samples: typeof value === 'number' ? [{ metric: 'value', value, better: betterOf(s) }] : [],
    };
  },
});
