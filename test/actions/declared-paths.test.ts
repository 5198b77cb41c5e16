/**
 * What each action declares it touches: `modifies()` for `rollback: true`. Every built-in action
 * decides (a list, `[]` for none, or undefined for "cannot know"), so none can silently fail the
 * load-time check again — rotate-logs, DESIGN's own `rollback: true` example, once did.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/builtin.js';
import { loadedBuiltinRegistry } from '../../src/actions/builtin-loaded.js';
import { createCaretaker } from '../../src/create-caretaker.js';
import { parseConfigText } from '../../src/config/load.js';
import { ManualClock } from '../../src/engine/clock.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { tempDir } from '../support/tmp.js';

function load(dir: string, tasks: string) {
  return parseConfigText(`version: 1\nstate_dir: state\ntasks:\n${tasks}`, join(dir, 'caretaker.yaml'), {
    registry: loadedBuiltinRegistry(),
  });
}

function issues(dir: string, tasks: string): string[] {
  try {
    load(dir, tasks);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
  }
}

describe('actions declare what they modify', () => {
  it('every built-in action has a modifies() hook', () => {
    // As registered: runbook gets its hook when bound to the registry.
    const all = loadedBuiltinRegistry().all();
    expect(all.length).toBe(builtinActions.length);
    expect(all.filter((a) => a.modifies === undefined).map((a) => a.name)).toEqual([]);
  });

  it('accepts rollback: true for every action that knows its paths', () => {
    const dir = tempDir();
    const tasks = [
      ['rotate-logs', '{ paths: ["logs/*.log"], rotate: 7 }'],
      ['prune-files', '{ paths: [cache], older_than: 7d }'],
      ['validate-config', '{ files: [config/app.yaml] }'],
      ['code-quality', '{ tools: [prettier], fix: true }'],
      ['backup', '{ paths: [config], dest: backups }'],
      ['export', '{ source: history, output: reports }'],
      [
        'db-retention',
        '{ path: data.db, table: t, timestamp_column: at, older_than: 1d, archive_to: archive }',
      ],
      ['shell', '{ command: "true", paths: [config] }'],
    ]
      .map(([action, w], i) => `  t${i}:\n    action: ${action}\n    rollback: true\n    with: ${w}\n`)
      .join('');
    expect(issues(dir, tasks)).toEqual([]);
    const config = load(dir, tasks);
    expect(config.tasks.map((t) => t.action)).toContain('rotate-logs');
  });

  it('says why rollback: true has nothing to hold, or that the paths must be named', () => {
    const dir = tempDir();
    expect(
      issues(
        dir,
        [
          '  scan:\n    action: scan-logs\n    rollback: true\n    with: { paths: [app.log] }\n',
          '  lint:\n    action: code-quality\n    rollback: true\n    with: { tools: [prettier] }\n',
          '  mod:\n    action: module\n    rollback: true\n    with: { path: x.mjs }\n',
        ].join(''),
      ),
    ).toEqual([
      '6:15 tasks.scan.rollback: action "scan-logs" changes no files with these options, so a rollback point would hold nothing; remove rollback:, or name the files: rollback: { paths: ["data/**"] }',
      '10:15 tasks.lint.rollback: action "code-quality" changes no files with these options, so a rollback point would hold nothing; remove rollback:, or name the files: rollback: { paths: ["data/**"] }',
      '14:15 tasks.mod.rollback: action "module" does not say which files this task modifies; write rollback: { paths: ["config/**"] }',
    ]);
  });

  it('rotate-logs with rollback: true takes a point a rollback restores exactly (DESIGN example)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'app.log'), 'line 1\nline 2\n');
    writeFileSync(join(dir, 'logs', 'app.log.1'), 'older\n');
    writeFileSync(join(dir, 'logs', 'other.txt'), 'not a log of this task\n');
    const ct = createCaretaker({
      configText:
        'version: 1\nstate_dir: state\ntasks:\n  rotate-app-logs:\n    action: rotate-logs\n    rollback: true\n    with: { paths: ["logs/*.log"], rotate: 7 }\n',
      baseDir: dir,
      clock: new ManualClock(Date.UTC(2026, 10, 24, 2)),
      host: 'test-host',
    });
    try {
      const run = await ct.runNow('rotate-app-logs');
      expect(run.status).toBe('success');
      expect(readFileSync(join(dir, 'logs', 'app.log.1'), 'utf8')).toBe('line 1\nline 2\n');
      expect(readFileSync(join(dir, 'logs', 'app.log.2'), 'utf8')).toBe('older\n');
      const [point] = await ct.listRollbacks({ task: 'rotate-app-logs' });
      expect(point).toMatchObject({ kind: 'task', runId: run.id });

      const { report } = await ct.rollback(point!.id, { reason: 'test' });
      expect(readFileSync(join(dir, 'logs', 'app.log'), 'utf8')).toBe('line 1\nline 2\n');
      expect(readFileSync(join(dir, 'logs', 'app.log.1'), 'utf8')).toBe('older\n');
      expect(existsSync(join(dir, 'logs', 'app.log.2'))).toBe(false);
      expect(report.deleted).toEqual([join(dir, 'logs', 'app.log.2')]);
      // Only the log's family was in the point.
      expect(report.restored.concat(report.deleted).some((p) => p.endsWith('other.txt'))).toBe(false);
    } finally {
      await ct.close();
    }
  });
});
