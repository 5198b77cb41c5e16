/**
 * `cpu`: utilisation over a short sample (all cores); `load`: the load average per core.
 * The sample is a real measurement over real time, so it waits on real time (not the
 * injected clock) — and stops early when the check is aborted.
 */
import { formatDuration } from '../../core/duration.js';
import { plural } from '../../core/plural.js';
import { setTimeout as delay } from 'node:timers/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { z } from 'zod';
import { duration } from '../../schema/values.js';
import { percent } from '../../schema/thresholds.js';
import { defineCheck } from './check-types.js';
import { common } from './common-options.js';
import { describeLimits, judgeAbove, pct } from './thresholds.js';

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

export const cpuCheck = defineCheck({
  kind: 'cpu',
  schema: z.strictObject({
    sample: duration().optional().describe('How long to measure. @default 1s'),
    warn: percent().optional().describe('@default 90%'),
    fail: percent().optional().describe('@default 98%'),
    ...common,
  }),
  defaultTimeoutMs: 10_000,
  nameOf: () => 'cpu',
  async run(s, ctx) {
    const a = cpuTimes();
    await delay(s.sample ?? 1_000, undefined, { signal: ctx.signal });
    const b = cpuTimes();
    const total = b.total - a.total;
    const used = total <= 0 ? 0 : (b.busy - a.busy) / total;
    const limits = { warn: s.warn ?? 0.9, fail: s.fail ?? 0.98 };
    return {
      status: judgeAbove(used, limits),
      value: Math.round(used * 10_000) / 100,
      unit: '%',
      thresholds: describeLimits(limits, '≥', pct),
      message: `${pct(used)} busy over ${formatDuration(s.sample ?? 1_000)} on ${plural(cpus().length, 'core')}`,
      samples: [{ metric: 'used_pct', value: used, unit: 'ratio', better: 'lower' }],
    };
  },
});

const PERIODS = { '1m': 0, '5m': 1, '15m': 2 } as const;

export const loadCheck = defineCheck({
  kind: 'load',
  schema: z.strictObject({
    period: z.enum(['1m', '5m', '15m']).optional().describe('Which load average is judged. @default 5m'),
    warn: z.number().positive().optional().describe('Load per core to warn at. @default 2'),
    fail: z.number().positive().optional().describe('Load per core to fail at. @default 4'),
    ...common,
  }),
  defaultTimeoutMs: 5_000,
  nameOf: () => 'load',
  async run(s) {
    const cores = availableParallelism();
    const [l1, l5, l15] = loadavg().map((l) => l / cores) as [number, number, number];
    const period = s.period ?? '5m';
    const value = [l1, l5, l15][PERIODS[period]]!;
    const limits = { warn: s.warn ?? 2, fail: s.fail ?? 4 };
    const r = (n: number) => Math.round(n * 100) / 100;
    return {
      status: judgeAbove(value, limits),
      value: r(value),
      unit: 'per core',
      thresholds: describeLimits(limits, '≥'),
      message: `load per core ${r(l1)} / ${r(l5)} / ${r(l15)} (1m / 5m / 15m) on ${cores} cores`,
      details: { load1: l1, load5: l5, load15: l15, cores },
      samples: [
        { metric: 'load1', value: l1, better: 'lower' },
        { metric: 'load5', value: l5, better: 'lower' },
        { metric: 'load15', value: l15, better: 'lower' },
      ],
    };
  },
});
