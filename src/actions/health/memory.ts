/** `memory`: used % and available bytes (MemAvailable, what the kernel can hand out), swap used %. */
import { readFile } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import { z } from 'zod';
import { size } from '../../schema/values.js';
import { percent } from '../../schema/thresholds.js';
import { formatSize } from '../../core/size.js';
import { defineCheck, worst } from './check-types.js';
import { common } from './common-options.js';
import { describeLimits, judgeAbove, judgeBelow, pct } from './thresholds.js';

const schema = z.strictObject({
  warn: percent().optional().describe('Used % to warn at. @default 90%'),
  fail: percent().optional().describe('Used % to fail at. @default 95%'),
  available_warn: size().optional().describe('Warn when less than this is available.'),
  available_fail: size().optional(),
  swap_warn: percent().optional().describe('Swap used % to warn at. @default none'),
  swap_fail: percent().optional(),
  ...common,
});

interface MemInfo {
  total: number;
  available: number;
  swapTotal: number;
  swapFree: number;
}

export async function readMemInfo(): Promise<MemInfo> {
  try {
    const text = await readFile('/proc/meminfo', 'utf8');
    const kb = (key: string) => {
      const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    return {
      total: kb('MemTotal') ?? totalmem(),
      available: kb('MemAvailable') ?? freemem(),
      swapTotal: kb('SwapTotal') ?? 0,
      swapFree: kb('SwapFree') ?? 0,
    };
  } catch {
    return { total: totalmem(), available: freemem(), swapTotal: 0, swapFree: 0 }; // not Linux
  }
}

export const memoryCheck = defineCheck({
  kind: 'memory',
  schema,
  defaultTimeoutMs: 5_000,
  nameOf: () => 'memory',
  async run(s) {
    const m = await readMemInfo();
    const usedPct = m.total === 0 ? 0 : 1 - m.available / m.total;
    const swapPct = m.swapTotal === 0 ? 0 : 1 - m.swapFree / m.swapTotal;
    const limits = { warn: s.warn ?? 0.9, fail: s.fail ?? 0.95 };
    const status = worst(
      judgeAbove(usedPct, limits),
      judgeBelow(m.available, { warn: s.available_warn, fail: s.available_fail }),
      judgeAbove(swapPct, { warn: s.swap_warn, fail: s.swap_fail }),
    );
    return {
      status,
      value: Math.round(usedPct * 10_000) / 100,
      unit: '%',
      thresholds: describeLimits(limits, '≥', pct),
      message: `${pct(usedPct)} used, ${formatSize(m.available)} available of ${formatSize(m.total)}; swap ${m.swapTotal === 0 ? 'none' : `${pct(swapPct)} used`}`,
      details: { totalBytes: m.total, availableBytes: m.available, swapTotalBytes: m.swapTotal, swapPct },
      samples: [
        { metric: 'used_pct', value: usedPct, unit: 'ratio', better: 'lower' },
        { metric: 'available_bytes', value: m.available, unit: 'bytes', better: 'higher' },
        { metric: 'swap_pct', value: swapPct, unit: 'ratio', better: 'lower' },
      ],
    };
  },
});
