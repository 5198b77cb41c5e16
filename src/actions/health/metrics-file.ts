/**
 * `metrics_file`: an application's own records (a JSON array or JSON Lines, e.g.
 * logs/performance.json with timestamp, duration, success, component). Over a window (`since:
 * 24h`): count, mean, median, p95, min, max or sum of a numeric field, and the rate of a boolean
 * field — overall or grouped by a field — each judged against its bounds.
 */
import { z } from 'zod';
import { duration } from '../../schema/values.js';
import { RecordsFileError, readRecords, timestampOf } from '../read-records.js';
import { defineCheck, type CheckOutcome } from './check-types.js';
import { common } from './common-options.js';
import { betterOf } from './json-file.js';
import { lookup } from './json-path.js';
import { boundsSchema, describeBounds, judgeBounds, pct } from './thresholds.js';

const STATS = ['count', 'mean', 'median', 'p95', 'min', 'max', 'sum', 'rate'] as const;
type Stat = (typeof STATS)[number];

const measure = z.strictObject({
  field: z.string().min(1).optional().describe('The field measured (not needed for count).'),
  stat: z.enum(STATS).describe('rate: share of records where the field is true (or 1, "ok", "success").'),
  ...boundsSchema,
});

const schema = z.strictObject({
  path: z.string().min(1),
  since: duration().optional().describe('Only records newer than this. @default 24h'),
  timestamp: z.string().optional().describe('The time field (ISO or epoch s/ms). @default timestamp'),
  group_by: z.string().optional().describe('Judge each value of this field separately, e.g. component.'),
  measures: z.array(measure).min(1),
  ...common,
});

function truthy(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (['true', 'ok', 'success', 'passed', 'yes', '1'].includes(s)) return true;
    if (['false', 'error', 'failure', 'failed', 'no', '0'].includes(s)) return false;
  }
  return undefined;
}

export function statOf(stat: Stat, values: readonly unknown[]): number | null {
  if (stat === 'count') return values.length;
  if (stat === 'rate') {
    const bools = values.map(truthy).filter((b): b is boolean => b !== undefined);
    return bools.length === 0 ? null : bools.filter(Boolean).length / bools.length;
  }
  const nums = values
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (nums.length === 0) return null;
  const sum = nums.reduce((a, b) => a + b, 0);
  switch (stat) {
    case 'sum':
      return sum;
    case 'mean':
      return sum / nums.length;
    case 'min':
      return nums[0]!;
    case 'max':
      return nums[nums.length - 1]!;
    case 'median': {
      const m = Math.floor(nums.length / 2);
      return nums.length % 2 ? nums[m]! : (nums[m - 1]! + nums[m]!) / 2;
    }
    case 'p95':
      return nums[Math.min(nums.length - 1, Math.ceil(0.95 * nums.length) - 1)]!;
  }
}

export const metricsFileCheck = defineCheck({
  kind: 'metrics_file',
  schema,
  defaultTimeoutMs: 30_000,
  nameOf: (s) => s.path,
  async run(s, ctx) {
    let records: unknown[];
    try {
      records = await readRecords(ctx.resolvePath(s.path));
    } catch (err) {
      if (err instanceof RecordsFileError) return { status: 'fail', value: null, message: err.message };
      throw err;
    }
    const since = ctx.clock.now() - (s.since ?? 86_400_000);
    const tsField = s.timestamp ?? 'timestamp';
    const recent = records.filter((r) => {
      const t = timestampOf(lookup(r, tsField).value);
      return t !== undefined && t >= since;
    });
    const groups = new Map<string, unknown[]>();
    if (s.group_by) {
      for (const r of recent) {
        const g = lookup(r, s.group_by);
        const key = g.found ? String(g.value) : '(none)';
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
    } else groups.set('', recent);
    if (groups.size === 0) groups.set('', []);
    const out: CheckOutcome[] = [];
    for (const [group, rows] of [...groups].sort((a, b) => a[0].localeCompare(b[0]))) {
      for (const m of s.measures) {
        const label = m.stat === 'count' ? 'count' : `${m.field ?? '?'}.${m.stat}`;
        const suffix = group ? `${group}/${label}` : label;
        if (m.stat !== 'count' && !m.field) {
          out.push({ suffix, status: 'fail', value: null, message: `${m.stat} needs a field` });
          continue;
        }
        const values = m.stat === 'count' ? rows : rows.map((r) => lookup(r, m.field!).value);
        const v = statOf(m.stat, values);
        const where = `${group ? `${s.group_by}=${group}, ` : ''}${rows.length} record${rows.length === 1 ? '' : 's'}`;
        if (v === null) {
          // Nothing to judge: only a bound on the count itself could make "no data" a problem.
          out.push({
            suffix,
            status: 'warn',
            value: null,
            message: `${label}: no values (${where})`,
            thresholds: describeBounds(m),
          });
          continue;
        }
        const shown = m.stat === 'rate' ? pct(v) : String(Math.round(v * 1000) / 1000);
        out.push({
          suffix,
          status: judgeBounds(v, m),
          value: Math.round(v * 10_000) / 10_000,
          thresholds: describeBounds(m),
          message: `${label} = ${shown} (${where})`,
          samples: [{ metric: 'value', value: v, better: betterOf(m) }],
        });
      }
    }
    return out;
  },
});
