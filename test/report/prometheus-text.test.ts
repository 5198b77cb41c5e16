/** The exposition writer: escaping, number formats, and what promtool accepts. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { escapeLabelValue, formatValue, writeExposition } from '../../src/report/prometheus-text.js';

describe('prometheus text writer', () => {
  it('escapes backslashes, double quotes and newlines in label values', () => {
    expect(escapeLabelValue('C:\\logs "x"\nnext')).toBe('C:\\\\logs \\"x\\"\\nnext');
  });

  it('writes HELP and TYPE for every family, samples with labels in order, Go number formats', () => {
    const text = writeExposition([
      {
        name: 'x_seconds',
        help: 'a help with a \\ and a\nnewline',
        type: 'histogram',
        samples: [
          { suffix: '_bucket', labels: { task: 'a"b', le: '0.5' }, value: 1 },
          { suffix: '_bucket', labels: { task: 'a"b', le: '+Inf' }, value: 2 },
          { suffix: '_sum', labels: { task: 'a"b' }, value: 0.75 },
          { suffix: '_count', labels: { task: 'a"b' }, value: 2 },
        ],
      },
      { name: 'y', help: 'empty', type: 'gauge', samples: [] },
      { name: 'z', help: 'odd values', type: 'gauge', samples: [{ labels: { path: '/a\\b' }, value: NaN }] },
    ]);
    expect(text).toBe(
      [
        '# HELP x_seconds a help with a \\\\ and a\\nnewline',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{task="a\\"b",le="0.5"} 1',
        'x_seconds_bucket{task="a\\"b",le="+Inf"} 2',
        'x_seconds_sum{task="a\\"b"} 0.75',
        'x_seconds_count{task="a\\"b"} 2',
        '# HELP y empty',
        '# TYPE y gauge',
        '# HELP z odd values',
        '# TYPE z gauge',
        'z{path="/a\\\\b"} NaN',
        '',
      ].join('\n'),
    );
    expect([Infinity, -Infinity, 1e21, 0.1].map(formatValue)).toEqual(['+Inf', '-Inf', '1e+21', '0.1']);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error === undefined) expect(promtool.status, promtool.stderr).toBe(0);
  });

  it('refuses a label name Prometheus would reject (a bug of ours, not a user error)', () => {
    expect(() =>
      writeExposition([
        { name: 'x', help: 'h', type: 'gauge', samples: [{ labels: { 'a-b': '1' }, value: 1 }] },
      ]),
    ).toThrow('invalid Prometheus label name "a-b"');
  });
});
