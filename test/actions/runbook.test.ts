import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCaretaker } from '../../src/create-caretaker.js';
import { ManualClock } from '../../src/engine/clock.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { advance } from '../support/clock-driver.js';
import { tempDir, waitUntil } from '../support/tmp.js';

const step = (name: string, command: string, undo?: string) =>
  `        - name: ${name}\n          action: shell\n          with: { command: ${JSON.stringify(command)} }\n` +
  (undo ? `          undo: { action: shell, with: { command: ${JSON.stringify(undo)} } }\n` : '');

/** The seeds' upgrade procedure: backup → maintenance flag on → migrate → test → flag off. */
function upgrade(migrate: string, undoFlag = 'rm maintenance.flag && echo flag-off >> log') {
  return [
    step('backup', 'echo backup >> log', 'echo drop-backup >> log'),
    step('flag-on', 'touch maintenance.flag && echo flag-on >> log', undoFlag),
    step('migrate', migrate, 'echo unmigrate >> log'),
    step('test', 'echo test >> log'),
    step('flag-off', 'rm maintenance.flag && echo flag-off >> log'),
  ].join('');
}

function open(dir: string, steps: string, clock = new ManualClock(Date.now())) {
  return createCaretaker({
    configText: `version: 1\nstate_dir: state\ntasks:\n  upgrade:\n    action: runbook\n    with:\n      steps:\n${steps}`,
    baseDir: dir,
    clock,
  });
}

const log = (dir: string) => readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');

describe('runbook', () => {
  it('runs every step in order', async () => {
    const dir = tempDir();
    const ct = open(dir, upgrade('echo migrate >> log'));
    try {
      const run = await ct.runNow('upgrade');
      expect(run.status).toBe('success');
      expect(run.result?.summary).toBe('5 steps done');
      expect(log(dir)).toEqual(['backup', 'flag-on', 'migrate', 'test', 'flag-off']);
      const steps = run.result?.details?.steps as {
        name: string;
        status: string;
        undo: { status: string };
      }[];
      expect(steps.map((s) => [s.name, s.status, s.undo.status])).toEqual([
        ['backup', 'ok', 'not needed'],
        ['flag-on', 'ok', 'not needed'],
        ['migrate', 'ok', 'not needed'],
        ['test', 'ok', 'none'],
        ['flag-off', 'ok', 'none'],
      ]);
    } finally {
      await ct.close();
    }
  });

  it('undoes the completed steps in reverse order when one fails, and records each outcome', async () => {
    const dir = tempDir();
    const ct = open(dir, upgrade('echo migrate >> log && exit 4'));
    try {
      const run = await ct.runNow('upgrade');
      expect(run.status).toBe('failed');
      expect(run.exitCode).toBe(4);
      // The failed step is not undone (it did not complete); the two before it are, newest first.
      expect(log(dir)).toEqual(['backup', 'flag-on', 'migrate', 'flag-off', 'drop-backup']);
      expect(existsSync(join(dir, 'maintenance.flag'))).toBe(false);
      expect(run.result?.summary).toMatch(
        /^step 3\/5 migrate failed: exit 4 after .*; undid 2 of 2 completed steps$/,
      );
      const steps = run.result?.details?.steps as { status: string; undo: { status: string } }[];
      expect(steps.map((s) => [s.status, s.undo.status])).toEqual([
        ['ok', 'ok'],
        ['ok', 'ok'],
        ['failed', 'not needed'],
        ['not run', 'none'],
        ['not run', 'none'],
      ]);
      expect(run.result?.details?.failedStep).toBe(3);
      expect(run.outputTail).toContain('== undo of step 2/5 flag-on (shell) ==');
    } finally {
      await ct.close();
    }
  });

  it('keeps undoing after an undo fails, and says which step needs a person', async () => {
    const dir = tempDir();
    const ct = open(dir, upgrade('exit 1', 'echo cannot >&2; exit 9'));
    try {
      const run = await ct.runNow('upgrade');
      expect(run.status).toBe('failed');
      expect(log(dir)).toEqual(['backup', 'flag-on', 'drop-backup']);
      expect(run.result?.summary).toMatch(/undid 1 of 2 completed steps; 1 undo FAILED$/);
      expect(run.result?.warnings).toEqual([
        expect.stringMatching(
          /^undo of step 2\/5 flag-on failed \(exit 9 after .*\); step 2 "flag-on" is still applied and needs a person$/,
        ),
      ]);
    } finally {
      await ct.close();
    }
  });

  it('prints the plan in a dry run, with each step’s own dry run, and changes nothing', async () => {
    const dir = tempDir();
    const ct = open(dir, upgrade('echo migrate >> log'));
    try {
      const run = await ct.runNow('upgrade', { dryRun: true });
      expect(run.status).toBe('success');
      expect(existsSync(join(dir, 'log'))).toBe(false);
      expect(run.result?.plan?.slice(0, 4)).toEqual([
        'step 1/5 backup (shell): would run: echo backup >> log',
        `  run \`echo backup >> log\` in ${dir}`,
        '  if a later step fails, undo with shell: would run: echo drop-backup >> log',
        `    run \`echo drop-backup >> log\` in ${dir}`,
      ]);
      expect(run.result?.plan).toHaveLength(4 * 3 + 2 * 2);
    } finally {
      await ct.close();
    }
  });

  it('fails a step at its own timeout and undoes the steps before it', async () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.now());
    const slow = [
      step('flag-on', 'echo flag-on >> log', 'echo flag-off >> log'),
      `        - name: slow\n          action: shell\n          timeout: 5m\n          with: { command: "echo started > started; exec sleep 30" }\n`,
    ].join('');
    const ct = open(dir, slow, clock);
    try {
      const queued = await ct.runNow('upgrade', { wait: false });
      await waitUntil(() => existsSync(join(dir, 'started')), 'the slow step to start');
      await advance(clock, 5 * 60_000);
      const run = await ct.waitForRun(queued.id);
      expect(run.status).toBe('failed');
      expect(run.result?.summary).toMatch(/^step 2\/2 slow failed: timed out after 5m: killed by SIGTERM/);
      expect(log(dir)).toEqual(['flag-on', 'flag-off']);
    } finally {
      await ct.close();
    }
  });

  it('checks every step with its own action’s schema at load, positioned under the step', () => {
    const dir = tempDir();
    const steps =
      `        - action: shel\n          with: { command: x }\n` +
      `        - action: shell\n          with: { comand: "echo hi" }\n` +
      `          undo: { action: http, with: { url: 42 } }\n`;
    try {
      open(dir, steps);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
      expect(issues).toEqual([
        expect.stringMatching(
          /^8:19 tasks\.upgrade\.with\.steps\.0\.action: unknown action "shel" \(did you mean "shell"\?\)/,
        ),
        '11:11 tasks.upgrade.with.steps.1.with.command: expected a command line (run by /bin/sh) or a list [program, arg, ...] (run directly)',
        '11:19 tasks.upgrade.with.steps.1.with.comand: unknown key "comand" (did you mean "command"?)',
        '12:46 tasks.upgrade.with.steps.1.undo.with.url: expected an http:// or https:// URL',
      ]);
    }
  });
});
