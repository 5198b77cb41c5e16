import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLocked } from '../../src/engine/state-lock.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const stackTrace = /\n\s+at .+:\d+:\d+/;

describe('the caretaker binary, end to end', () => {
  it('init → validate → start --daemon → run-task --wait → history --json → stop', () => {
    const dir = tempDir('ct-e2e-');
    const init = cli(['init'], { cwd: dir });
    expect(init.code).toBe(0);
    // The standard set grows as actions land: whatever is active must validate and run.
    const active = Number(/^wrote .*caretaker\.yaml \((\d+) tasks?/.exec(init.stdout)?.[1]);
    expect(active).toBeGreaterThanOrEqual(1);

    const validate = cli(['validate'], { cwd: dir });
    expect(validate).toMatchObject({ code: 0 });
    expect(validate.stdout).toMatch(
      new RegExp(`caretaker\\.yaml is valid: ${active} tasks?, ${active} scheduled`),
    );

    const start = cli(['start', '--daemon'], { cwd: dir });
    expect(start.code).toBe(0);
    const pid = Number(/pid (\d+)/.exec(start.stdout)![1]);
    try {
      expect(isLocked(join(dir, '.caretaker'))).toBe(true);
      const again = cli(['start', '--daemon'], { cwd: dir });
      expect(again.code).toBe(2);
      expect(again.stderr.trim()).toMatch(
        /^caretaker: a caretaker daemon is already running on .*\.caretaker \(pid \d+\)$/,
      );

      const run = cli(['run-task', 'health-check', '--wait', '--json'], { cwd: dir });
      expect(run.code).toBe(0);
      const record = JSON.parse(run.stdout);
      expect(record).toMatchObject({ task: 'health-check', status: 'success', trigger: 'manual', pid });
      expect(record.outputTail).toMatch(/^OK +disk \.: [\d.]+% used/);
      expect(record.result).toMatchObject({
        ok: true,
        summary: expect.stringMatching(/^\d+ checks: \d+ ok, 0 warn, 0 fail$/),
      });

      const history = cli(['history', '--json'], { cwd: dir });
      expect(history.code).toBe(0);
      expect(JSON.parse(history.stdout).map((r: { id: number; status: string }) => [r.id, r.status])).toEqual(
        [[record.id, 'success']],
      );

      const status = cli(['status'], { cwd: dir });
      expect(status.stdout).toMatch(new RegExp(`^daemon: running \\(pid ${pid}, up `));
      expect(status.stdout).toMatch(
        /next runs:\nWHEN +TASK +AT\n(?:.*\n)*in .+ +health-check +\d{4}-\d\d-\d\d \d\d:00 UTC/,
      );
    } finally {
      const stop = cli(['stop'], { cwd: dir });
      expect(stop).toMatchObject({ code: 0 });
      expect(stop.stdout.trim()).toBe(`caretaker (pid ${pid}) stopped`);
    }
    expect(isLocked(join(dir, '.caretaker'))).toBe(false);
    expect(cli(['stop'], { cwd: dir }).stdout).toMatch(/no caretaker daemon is running/);
  });

  it('stops a daemon even after its configuration file was broken by an edit', () => {
    const dir = tempDir('ct-e2e-');
    const file = join(dir, 'caretaker.yaml');
    writeFileSync(
      file,
      'version: 1\nstate_dir: var/state\ntasks:\n  a: { action: shell, with: { command: "true" } }\n',
    );
    expect(cli(['start', '--daemon'], { cwd: dir }).code).toBe(0);
    writeFileSync(file, 'version: 1\nstate_dir: var/state\ntasks:\n  a: { action: shel }\n');
    const stop = cli(['stop'], { cwd: dir });
    expect(stop.code).toBe(0);
    expect(stop.stderr).toMatch(
      /warning: .*caretaker\.yaml has errors \(see caretaker validate\); using the state dir .*var\/state/,
    );
    expect(stop.stdout).toMatch(/caretaker \(pid \d+\) stopped/);
    expect(isLocked(join(dir, 'var', 'state'))).toBe(false);
  });

  it('runs a task in-process when no daemon runs, with exit 1 on failure', () => {
    const dir = tempDir('ct-e2e-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  fails: { action: shell, with: { command: "echo nope; exit 4" } }\n',
    );
    const r = cli(['run-task', 'fails'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^run #1 of fails: failed in \d+ms, exit 4\nexit 4 after/);
    expect(r.stdout).toMatch(/--- output \(tail\) ---\nnope/);
  });

  describe('bad input gets one clear line and exit 2', () => {
    const cases: [string, string[], string | null, RegExp][] = [
      ['a wrong flag', ['list-tasks', '--bogus'], 'ok', /^caretaker: unknown option '--bogus'$/],
      ['an unknown command', ['rotate'], 'ok', /^caretaker: unknown command 'rotate'/],
      [
        'a missing config',
        ['validate', '-c', 'nope.yaml'],
        null,
        /nope\.yaml: no such file; create one with `caretaker init` or pass -c PATH$/,
      ],
      [
        'an unknown task id',
        ['run-task', 'helth-check'],
        'ok',
        /^caretaker: unknown task "helth-check" \(did you mean "health-check"\?\)$/,
      ],
      [
        'a cron with 7 fields',
        ['validate'],
        'cron7',
        /caretaker\.yaml:3:\d+: tasks\.x\.schedule: "0 0 0 \* \* \* 2027" has 7 fields/,
      ],
      [
        'an unreadable state dir',
        ['list-tasks'],
        'statefile',
        /^caretaker: cannot create the state directory .*state-is-a-file: it \(or a parent\) exists and is not a directory$/,
      ],
      [
        'a bad --limit',
        ['history', '--limit', 'ten'],
        'ok',
        /^caretaker: --limit expects a whole number ≥ 1, got "ten"$/,
      ],
      [
        'a bad preset',
        ['init', '--preset', 'mainframe', '-c', 'new.yaml'],
        'ok',
        /^caretaker: unknown preset "mainframe"; expected one of standard, web-service, ci$/,
      ],
      [
        'a bad --format',
        ['run-task', 'health-check', '--format', 'xml'],
        'ok',
        /^caretaker: unknown --format "xml"; expected one of text, json, github$/,
      ],
    ];
    it.each(cases)('%s', (_name, args, config, message) => {
      const dir = tempDir('ct-bad-');
      if (config === 'ok')
        writeFileSync(
          join(dir, 'caretaker.yaml'),
          'version: 1\ntasks:\n  health-check: { action: shell, with: { command: "true" } }\n',
        );
      if (config === 'cron7')
        writeFileSync(
          join(dir, 'caretaker.yaml'),
          'version: 1\ntasks:\n  x: { action: shell, schedule: "0 0 0 * * * 2027", with: { command: "true" } }\n',
        );
      if (config === 'statefile') {
        writeFileSync(join(dir, 'state-is-a-file'), 'not a directory');
        writeFileSync(join(dir, 'caretaker.yaml'), 'version: 1\nstate_dir: state-is-a-file\ntasks: {}\n');
      }
      const r = cli(args, { cwd: dir });
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines.length, r.stderr).toBe(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(stackTrace);
    });
  });
});
