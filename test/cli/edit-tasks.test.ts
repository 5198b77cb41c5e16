/**
 * create-task and schedule-task as a user runs them, on the file `caretaker init` writes: every
 * comment kept, a refused value leaves the file byte for byte as it was, and a running daemon
 * has the change in force when the command returns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDaemon } from '../../src/server/client.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir, waitUntil } from '../support/tmp.js';

/** Every line holding a comment, in order (a comment after a value included). */
const commentLines = (text: string) => text.split('\n').filter((l) => l.includes('#'));

function initDir(preset: string): { dir: string; file: string; text: string } {
  const dir = tempDir('ct-edit-');
  const r = cli(['init', '--preset', preset], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const file = join(dir, 'caretaker.yaml');
  return { dir, file, text: readFileSync(file, 'utf8') };
}

interface TaskView {
  id: string;
  action: string;
  schedule: string | null;
  description?: string;
  priority: string;
}

const listTasks = (dir: string) => {
  const r = cli(['list-tasks', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as TaskView[];
};

describe('create-task and schedule-task on the file caretaker init writes', () => {
  it.each(['standard', 'web-service', 'ci'])(
    'preset %s: every comment and every original line kept, the file valid, the tasks as asked',
    (preset) => {
      const { dir, file, text } = initDir(preset);
      const first = listTasks(dir)[0]!;
      const created = cli(
        [
          'create-task',
          'nightly-export',
          '--action',
          'export',
          '--schedule',
          '17 3 * * *',
          '--description',
          'Export: history for the auditors',
          '--category',
          'documentation',
          '--priority',
          'high',
          '--timeout',
          '10m',
          '--with',
          'source=history',
          '--with',
          'format=json',
          '--with',
          'output=exports',
          '--with',
          'days=7',
        ],
        { cwd: dir },
      );
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toMatch(/^added task nightly-export \(export, schedule "17 3 \* \* \*"\) to /);
      expect(created.stdout).toMatch(/no daemon is running on this configuration/);
      const scheduled = cli(['schedule-task', first.id, '--cron', '*/20 * * * *'], { cwd: dir });
      expect(scheduled.code, scheduled.stderr).toBe(0);
      expect(scheduled.stdout).toContain(
        `schedule of ${first.id} set to "*/20 * * * *" (was "${first.schedule}")`,
      );

      const after = readFileSync(file, 'utf8');
      expect(commentLines(after)).toEqual(commentLines(text));
      // Every original line is still there, in order, but the one schedule line changed.
      const left = new Map<string, number>();
      for (const l of after.split('\n')) left.set(l, (left.get(l) ?? 0) + 1);
      const changed = text.split('\n').filter((l) => {
        const n = left.get(l) ?? 0;
        left.set(l, n - 1);
        return n <= 0;
      });
      expect(changed).toHaveLength(1);
      expect(changed[0]).toContain(first.schedule!);
      expect(cli(['validate'], { cwd: dir }).code).toBe(0);
      const tasks = listTasks(dir);
      expect(tasks.find((t) => t.id === first.id)!.schedule).toBe('*/20 * * * *');
      expect(tasks.find((t) => t.id === 'nightly-export')).toMatchObject({
        action: 'export',
        schedule: '17 3 * * *',
        description: 'Export: history for the auditors',
        priority: 'high',
      });
    },
  );

  it.each([
    [
      'an unknown action',
      ['create-task', 'x', '--action', 'shel', '--schedule', '@daily'],
      /--action \(tasks\.x\.action\): unknown action "shel" \(did you mean "shell"\?\)/,
    ],
    [
      'a bad cron',
      ['create-task', 'x', '--action', 'shell', '--schedule', '61 * * * *', '--with', 'command=true'],
      /--schedule \(tasks\.x\.schedule\): "61 \* \* \* \*" is not a valid cron expression/,
    ],
    [
      'an existing id',
      ['create-task', 'rotate-logs', '--action', 'shell', '--schedule', '@daily'],
      /task "rotate-logs" already exists \(line \d+\); schedule-task rotate-logs --cron EXPR/,
    ],
    [
      'a bad --with pair',
      ['create-task', 'x', '--action', 'shell', '--schedule', '@daily', '--with', 'command'],
      /--with "command": expected key=value/,
    ],
    [
      'an option the action does not have',
      [
        'create-task',
        'x',
        '--action',
        'shell',
        '--schedule',
        '@daily',
        '--with',
        'command=ls',
        '--with',
        'comand=ls',
      ],
      /--with \(tasks\.x\.with\.comand\): unknown key "comand"/,
    ],
    [
      'a --with value of the wrong type',
      ['create-task', 'x', '--action', 'shell', '--schedule', '@daily', '--with', 'command=true'],
      /command=true is a boolean; for text, quote it/,
    ],
    [
      'a bad priority',
      [
        'create-task',
        'x',
        '--action',
        'shell',
        '--schedule',
        '@daily',
        '--priority',
        'urgent',
        '--with',
        'command=ls',
      ],
      /--priority \(tasks\.x\.priority\): expected one of low, medium, high, critical/,
    ],
    [
      'a bad id',
      ['create-task', 'a b', '--action', 'shell', '--schedule', '@daily'],
      /task id "a b": expected letters, digits/,
    ],
    [
      'a missing --schedule',
      ['create-task', 'x', '--action', 'shell'],
      /create-task: --schedule EXPR is required/,
    ],
    [
      'schedule-task of an unknown id',
      ['schedule-task', 'rotate-log', '--cron', '@daily'],
      /unknown task "rotate-log" \(did you mean "rotate-logs"\?\)/,
    ],
    [
      'schedule-task with a bad cron',
      ['schedule-task', 'rotate-logs', '--cron', '0 2 * *'],
      /--cron \(tasks\.rotate-logs\.schedule\): "0 2 \* \*" has 4 fields/,
    ],
  ])('refuses %s in one line, exit 2, the file byte-identical', (_what, args, message) => {
    const { dir, file } = initDir('standard');
    chmodSync(file, 0o640);
    const before = readFileSync(file);
    const mtime = statSync(file).mtimeMs;
    const r = cli(args, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(mtime);
    // No temp file of an atomic write left beside it.
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    const json = cli([...args, '--json'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({ exitCode: 2, error: expect.stringMatching(message) });
  });

  it('keeps the file’s mode, and refuses to edit a file that already has errors', () => {
    const { dir, file } = initDir('standard');
    chmodSync(file, 0o640);
    expect(cli(['schedule-task', 'rotate-logs', '--cron', '@daily'], { cwd: dir }).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    writeFileSync(file, readFileSync(file, 'utf8').replace('action: rotate-logs', 'action: rotate-log'));
    const broken = readFileSync(file);
    const r = cli(['schedule-task', 'prune-cache', '--cron', '@daily'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /caretaker\.yaml has an error already \(.*unknown action "rotate-log".*\); fix it first/,
    );
    expect(readFileSync(file).equals(broken)).toBe(true);
  });
});

describe('create-task and schedule-task with a running daemon', () => {
  it('reload the daemon: its /v1/tasks and list-tasks show the new task and the new schedule', async () => {
    const { dir } = initDir('standard');
    const child: ChildProcess = spawn(process.execPath, [BIN, 'start'], {
      cwd: dir,
      env: { ...process.env, CARETAKER_CONFIG: '' },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      const daemon = await waitUntil(() => findDaemon(join(dir, '.caretaker')), 'the daemon', 15_000);
      const created = cli(
        [
          'create-task',
          'hello',
          '--action',
          'shell',
          '--schedule',
          '0 5 * * *',
          '--with',
          'command=echo hello',
        ],
        { cwd: dir },
      );
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toContain(`the daemon (pid ${daemon.info.pid}) reloaded the configuration`);
      let tasks = await daemon.call<TaskView[]>('GET', '/v1/tasks');
      expect(tasks.find((t) => t.id === 'hello')).toMatchObject({ action: 'shell', schedule: '0 5 * * *' });

      const scheduled = cli(['schedule-task', 'hello', '--cron', '30 6 * * *', '--json'], { cwd: dir });
      expect(scheduled.code, scheduled.stderr).toBe(0);
      expect(JSON.parse(scheduled.stdout)).toMatchObject({
        task: 'hello',
        schedule: '30 6 * * *',
        previous: '0 5 * * *',
        daemon: { reloaded: true, pid: daemon.info.pid },
      });
      tasks = await daemon.call<TaskView[]>('GET', '/v1/tasks');
      expect(tasks.find((t) => t.id === 'hello')!.schedule).toBe('30 6 * * *');
      // list-tasks goes through the daemon, and has no "file changed since loaded" warning.
      const list = cli(['list-tasks'], { cwd: dir });
      expect(list.stdout).toMatch(/hello\s+shell\s+30 6 \* \* \*/);
      expect(list.stderr).toBe('');
      // The daemon's task actually runs (the with: value reached the action as text).
      const run = cli(['run-task', 'hello', '--wait'], { cwd: dir });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('hello');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
