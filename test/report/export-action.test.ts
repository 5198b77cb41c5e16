/**
 * The export action: an application's own JSON / JSON Lines data to CSV, Markdown and JSON
 * snapshots; caretaker's history from inside a running engine; dry runs; unsafe outputs.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportAction } from '../../src/actions/export.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction } from '../support/run-action.js';
import { harness, HOUR, T0 } from '../support/engine-harness.js';
import { tempDir } from '../support/tmp.js';

const experiments = [
  {
    id: 'exp-1',
    started: '2026-11-20T10:00:00Z',
    params: { lr: 0.01, layers: 4 },
    score: 0.91,
    notes: 'baseline, first try',
  },
  {
    id: 'exp-2',
    started: '2026-11-21T10:00:00Z',
    params: { lr: 0.001, layers: 8 },
    score: 0.94,
    tags: ['best'],
  },
];

describe('export action: application data files', () => {
  it('turns a JSON array into CSV, Markdown and JSON with flattened columns', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'experiments.json'), JSON.stringify(experiments));
    const r = (
      await runAction(
        exportAction,
        { source: 'experiments.json', format: ['csv', 'md', 'json'], output: 'exports' },
        { baseDir: dir },
      )
    ).result;
    expect(r).toMatchObject({ ok: true, changed: true, filesModified: 3 });
    expect(r.summary).toBe(
      'exported 2 rows of experiments.json to experiments.csv, experiments.md, experiments.json',
    );
    const csv = readFileSync(join(dir, 'exports', 'experiments.csv'), 'utf8');
    expect(csv).toBe(
      'id,started,params.lr,params.layers,score,notes,tags\r\n' +
        'exp-1,2026-11-20T10:00:00Z,0.01,4,0.91,"baseline, first try",\r\n' +
        'exp-2,2026-11-21T10:00:00Z,0.001,8,0.94,,"[""best""]"\r\n',
    );
    const md = readFileSync(join(dir, 'exports', 'experiments.md'), 'utf8');
    expect(md).toContain('| id | started | params.lr | params.layers | score | notes | tags |');
    expect(md).toContain('| exp-1 | 2026-11-20T10:00:00Z | 0.01 | 4 | 0.91 | baseline, first try |  |');
    expect(JSON.parse(readFileSync(join(dir, 'exports', 'experiments.json'), 'utf8'))[1]).toMatchObject({
      'params.layers': 8,
    });
  });

  it('reads JSON Lines, picks fields, keeps timestamped snapshots up to `keep`', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'runs.jsonl'), experiments.map((e) => JSON.stringify(e)).join('\n'));
    const clock = new ManualClock(T0);
    for (let i = 0; i < 3; i++) {
      await runAction(
        exportAction,
        { source: 'runs.jsonl', output: 'snap', fields: ['id', 'score'], timestamp: true, keep: 2 },
        { baseDir: dir, clock },
      );
      clock.advance(HOUR);
    }
    expect(readdirSync(join(dir, 'snap')).sort()).toEqual([
      'runs-20261124T010000Z.csv',
      'runs-20261124T020000Z.csv',
    ]);
    expect(readFileSync(join(dir, 'snap', 'runs-20261124T020000Z.csv'), 'utf8')).toBe(
      'id,score\r\nexp-1,0.91\r\nexp-2,0.94\r\n',
    );
  });

  it('a dry run plans the files and writes nothing; the state dir and bad files are refused', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'data.json'), JSON.stringify(experiments));
    const dry = (
      await runAction(
        exportAction,
        { source: 'data.json', format: 'md', output: 'out' },
        { baseDir: dir, dryRun: true },
      )
    ).result;
    expect(dry.plan).toEqual([`write ${join(dir, 'out')}/data.md (2 rows, 7 columns)`]);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    const unsafe = (
      await runAction(exportAction, { source: 'data.json', output: '.caretaker/exports' }, { baseDir: dir })
    ).result;
    expect(unsafe).toMatchObject({ ok: false });
    expect(unsafe.summary).toMatch(/caretaker's own state dir/);
    writeFileSync(join(dir, 'broken.jsonl'), '{"a":1}\nnot json\n{"a":2}\n');
    const broken = (
      await runAction(exportAction, { source: 'broken.jsonl', output: 'out' }, { baseDir: dir })
    ).result;
    expect(broken.summary).toBe(
      `${join(dir, 'broken.jsonl')}:2: not JSON (expected a JSON array or one JSON object per line)`,
    );
  });
});

describe('export action: caretaker history', () => {
  it('exports the run history from inside a running caretaker', async () => {
    const h = await harness(
      '  work: { action: gate, with: { outcome: ok } }\n  fail: { action: gate, with: { outcome: fail } }\n  dump: { action: export, with: { source: history, format: csv, output: out, days: 1 } }\n',
    );
    await h.ct.runNow('work');
    await h.ct.runNow('fail');
    const run = await h.ct.runNow('dump');
    expect(run.status).toBe('success');
    const lines = readFileSync(join(h.dir, 'out', 'history.csv'), 'utf8')
      .trim()
      .split('\r\n');
    expect(lines.map((l) => l.split(',').slice(1, 4).join(','))).toEqual([
      'task,host,status',
      'work,test-host,success',
      'fail,test-host,failed',
      'dump,test-host,running', // the export itself is still running when it reads the history
    ]);
    await h.stop();
  });
});
