import { describe, expect, it } from 'vitest';
import { dueTime, jitterOffset, retryDelay } from '../../src/core/due-time.js';
import { findCycle, topologicalOrder } from '../../src/core/dependency-graph.js';
import { formatDuration, parseDuration } from '../../src/core/duration.js';
import { formatSize, parseSize } from '../../src/core/size.js';
import { parseHours } from '../../src/core/window.js';
import { closest } from '../../src/core/did-you-mean.js';

describe('durations and sizes', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['6h', 21_600_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('rejects what is not a duration', () => {
    for (const bad of ['10', '10 minutes', 'm', '-5s', '', '5y']) expect(parseDuration(bad)).toBeUndefined();
    expect(formatDuration(90_061_000)).toBe('1d 1h');
    expect(formatDuration(2_400)).toBe('2.4s');
  });

  it('reads 1024-based sizes', () => {
    expect(parseSize('512KB')).toBe(524_288);
    expect(parseSize('10MB')).toBe(10_485_760);
    expect(parseSize('1GB')).toBe(1_073_741_824);
    expect(parseSize('1.5 GiB')).toBe(1_610_612_736);
    expect(parseSize('12 parsecs')).toBeUndefined();
    expect(formatSize(1_610_612_736)).toBe('1.5GB');
  });
});

describe('due time: jitter, window, cooldown', () => {
  it('gives each task a fixed jitter per host, spread over the range', () => {
    const offsets = Array.from({ length: 200 }, (_, i) => jitterOffset(`task-${i}`, 'web-1', 60_000));
    expect(new Set(offsets).size).toBeGreaterThan(190);
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThan(60_000);
    // Spread: every 10-second slice of the minute gets some tasks.
    const buckets = new Set(offsets.map((o) => Math.floor(o / 10_000)));
    expect(buckets.size).toBe(6);
    expect(jitterOffset('task-1', 'web-1', 60_000)).toBe(offsets[1]);
    expect(jitterOffset('task-1', 'web-2', 60_000)).not.toBe(offsets[1]);
  });

  it('applies jitter, then the window, then the cooldown', () => {
    const t = Date.UTC(2026, 10, 24, 4, 59);
    const window = { hours: parseHours('1-4'), days: null, timezone: 'UTC' };
    expect(dueTime(t, { window, cooldownMs: 0, jitterMs: 0 }, 120_000, null)).toBe(
      Date.UTC(2026, 10, 25, 1, 0),
    ); // pushed out of 05:01
    expect(dueTime(t, { window: null, cooldownMs: 3_600_000, jitterMs: 0 }, 0, t - 600_000)).toBe(
      t + 3_000_000,
    );
  });

  it('backs off exponentially with bounded jitter, capped', () => {
    for (let n = 1; n <= 5; n++) {
      const d = retryDelay(n, 30_000, 3_600_000, 'k');
      expect(d).toBeGreaterThanOrEqual(0.8 * 30_000 * 2 ** (n - 1));
      expect(d).toBeLessThanOrEqual(1.2 * 30_000 * 2 ** (n - 1));
    }
    expect(retryDelay(20, 30_000, 3_600_000, 'k')).toBeLessThanOrEqual(3_600_000);
    expect(retryDelay(2, 30_000, 3_600_000, 'k')).toBe(retryDelay(2, 30_000, 3_600_000, 'k'));
  });
});

describe('dependency graph', () => {
  it('names a cycle and orders dependencies first', () => {
    const g = new Map([
      ['report', ['backup', 'rotate']],
      ['rotate', ['backup']],
      ['backup', []],
    ]);
    expect(findCycle(g)).toBeNull();
    expect(topologicalOrder(g)).toEqual(['backup', 'rotate', 'report']);
    const cyclic = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', []],
    ]);
    expect(findCycle(cyclic)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('suggests close names only', () => {
    expect(closest('rotate-log', ['rotate-logs', 'prune-files'])).toBe('rotate-logs');
    expect(closest('backup', ['rotate-logs', 'prune-files'])).toBeUndefined();
  });
});
