/**
 * `disk`: used %, free bytes and inodes used % of the filesystem holding a path, from
 * fs.statfs (no `df`). Used % is df's: used / (used + available to users), so the blocks
 * reserved for root count as unavailable, the way operators read it.
 */
import { statfs } from 'node:fs/promises';
import { z } from 'zod';
import { size } from '../../schema/values.js';
import { percent } from '../../schema/thresholds.js';
import { formatSize } from '../../core/size.js';
import { defineCheck, worst } from './check-types.js';
import { common } from './common-options.js';
import { describeLimits, judgeAbove, judgeBelow, pct } from './thresholds.js';

const schema = z.strictObject({
  path: z.string().min(1).optional().describe('A mount point or any path on the filesystem. @default /'),
  warn: percent().optional().describe('Used % to warn at. @default 90%'),
  fail: percent().optional().describe('Used % to fail at. @default 95%'),
  free_warn: size().optional().describe('Warn when less than this is free.'),
  free_fail: size().optional().describe('Fail when less than this is free.'),
  inodes_warn: percent().optional().describe('@default 90%'),
  inodes_fail: percent().optional().describe('@default 95%'),
  ...common,
});

export const diskCheck = defineCheck({
  kind: 'disk',
  schema,
  defaultTimeoutMs: 10_000,
  nameOf: (s) => s.path ?? '/',
  async run(s, ctx) {
    const path = ctx.resolvePath(s.path ?? '/');
    const st = await statfs(path);
    const usedBlocks = st.blocks - st.bfree;
    const usable = usedBlocks + st.bavail;
    const usedPct = usable === 0 ? 0 : usedBlocks / usable;
    const usedBytes = usedBlocks * st.bsize;
    const freeBytes = st.bavail * st.bsize;
    const capacity = usable * st.bsize;
    const inodesPct = st.files > 0 ? (st.files - st.ffree) / st.files : null;
    const limits = { warn: s.warn ?? 0.9, fail: s.fail ?? 0.95 };
    const inodeLimits = { warn: s.inodes_warn ?? 0.9, fail: s.inodes_fail ?? 0.95 };
    const byUse = judgeAbove(usedPct, limits);
    const byFree = judgeBelow(freeBytes, { warn: s.free_warn, fail: s.free_fail });
    const byInodes = inodesPct === null ? 'ok' : judgeAbove(inodesPct, inodeLimits);
    const status = worst(byUse, byFree, byInodes);
    const notes: string[] = [
      `${pct(usedPct)} used, ${formatSize(freeBytes)} free of ${formatSize(capacity)}`,
    ];
    if (inodesPct !== null) notes.push(`inodes ${pct(inodesPct)} used`);
    if (byFree !== 'ok')
      notes.push(`less than ${formatSize((byFree === 'fail' ? s.free_fail : s.free_warn)!)} free`);
    if (byInodes !== 'ok')
      notes.push(`inodes over ${pct(byInodes === 'fail' ? inodeLimits.fail : inodeLimits.warn)}`);
    return {
      status,
      value: Math.round(usedPct * 10_000) / 100,
      unit: '%',
      thresholds: describeLimits(limits, '≥', pct),
      message: notes.join('; '),
      details: { path, usedBytes, freeBytes, capacityBytes: capacity, usedPct, inodesPct },
      samples: [
        { metric: 'used_bytes', value: usedBytes, unit: 'bytes', better: 'lower' },
        { metric: 'capacity_bytes', value: capacity, unit: 'bytes' },
        { metric: 'used_pct', value: usedPct, unit: 'ratio', better: 'lower' },
        ...(inodesPct === null ? [] : [{ metric: 'inodes_pct', value: inodesPct, unit: 'ratio' }]),
      ],
    };
  },
});
