/**
 * The read-only commands an operator reaches for first: they must keep working when the
 * configuration file was just broken by an edit, and print times a person can read unambiguously.
 */
import { request } from 'node:http';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readHolder } from '../../src/caretaker-tools.js';
import { createCaretaker } from '../../src/create-caretaker.js';
import { ManualClock } from '../../src/engine/clock.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const GOOD = `version: 1
timezone: Europe/Berlin
tasks:
  hello: { action: shell, schedule: '@hourly', with: { command: 'echo hi' } }
`;

let stopDir: string | undefined;
afterEach(() => {
  if (stopDir) cli(['stop'], { cwd: stopDir });
  stopDir = undefined;
});

function call(socket: string, path: string): Promise<{ status: number; body: { error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET' }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error?: string } }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('with a broken caretaker.yaml and a daemon running the last good one', () => {
  it('status, list-tasks and history answer from the daemon with one warning line, exit 0', () => {
    const dir = tempDir('ct-broken-');
    writeFileSync(join(dir, 'caretaker.yaml'), GOOD);
    expect(cli(['start', '--daemon'], { cwd: dir }).code).toBe(0);
    stopDir = dir;
    expect(cli(['run-task', 'hello', '--wait'], { cwd: dir }).code).toBe(0);
    appendFileSync(join(dir, 'caretaker.yaml'), '  broken: { action: nope }\n');

    const status = cli(['status'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^daemon: running \(pid \d+/);
    expect(status.stdout).toMatch(/hello\s+\d{4}-\d\d-\d\d \d\d:\d\d CET/);
    expect(status.stderr).toMatch(
      /^warning: .*caretaker\.yaml has an error \(line 5:\d+: tasks\.broken\.action: unknown action "nope".*\); the daemon keeps running the configuration it loaded \(loaded .*\)\n$/,
    );

    const tasks = cli(['list-tasks'], { cwd: dir });
    expect(tasks.code).toBe(0);
    expect(tasks.stdout).toMatch(/^hello\s+shell\s+@hourly/m);
    expect(tasks.stdout).not.toMatch(/broken/);
    expect(tasks.stderr).toMatch(/^warning: .*has an error/);

    const history = cli(['history', '--json'], { cwd: dir });
    expect(history.code).toBe(0);
    expect((JSON.parse(history.stdout) as { task: string }[]).map((r) => r.task)).toEqual(['hello']);
    expect(history.stderr).toBe(''); // --json: the warning is not mixed into what a script reads

    const json = cli(['status', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toMatchObject({
      daemon: { running: true },
      configWarning: expect.stringMatching(/has an error/),
    });
  });

  it('without a daemon, status and history still show what the store holds', async () => {
    const dir = tempDir('ct-broken-');
    writeFileSync(join(dir, 'caretaker.yaml'), GOOD);
    expect(cli(['run-task', 'hello'], { cwd: dir }).code).toBe(0);
    writeFileSync(join(dir, 'caretaker.yaml'), `${GOOD}  broken: { action: nope }\n`);
    const history = cli(['history'], { cwd: dir });
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/#1\s+hello\s+success/);
    expect(history.stderr).toMatch(
      /^warning: .*has errors \(caretaker validate lists them\); reading the history in .*caretaker\.db\n$/,
    );
    const status = cli(['status'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^daemon: not running/);
    expect(status.stdout).toMatch(/last failures:\n {2}\(none\)/);
    // list-tasks has nothing to show without a configuration or a daemon: the errors, exit 2.
    const tasks = cli(['list-tasks'], { cwd: dir });
    expect(tasks.code).toBe(2);
    expect(tasks.stderr).toMatch(/tasks\.broken\.action: unknown action "nope"/);
  });
});

describe('times in list-tasks and status', () => {
  it('carry the zone, in the task’s own zone, with seconds where the schedule has them', () => {
    const dir = tempDir('ct-zones-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1
timezone: UTC
tasks:
  berlin: { action: shell, timezone: Europe/Berlin, schedule: '30 2 28 3 *', with: { command: 'true' } }
  seconds: { action: shell, schedule: '*/20 * * * * *', with: { command: 'true' } }
  plain: { action: shell, schedule: '0 3 * * *', with: { command: 'true' } }
`,
    );
    const r = cli(['list-tasks'], { cwd: dir });
    expect(r.code).toBe(0);
    // In Berlin's zone (it read "2027-03-27 21:00" in UTC before); 02:30 does not exist on the day
    // the clocks go forward, so the run falls in the hour after, summer time.
    expect(r.stdout).toMatch(/^berlin .* \d{4}-03-28 03:\d\d CEST \(in /m);
    expect(r.stdout).toMatch(/^seconds .* \d{4}-\d\d-\d\d \d\d:\d\d:(00|20|40) UTC \((in |now)/m);
    expect(r.stdout).toMatch(/^plain .* \d{4}-\d\d-\d\d 03:00 UTC \(in /m);
  });

  it('tell the two 01:30s of a DST fall-back apart', async () => {
    const dir = tempDir('ct-zones-');
    // 2026-10-25 in Berlin: 02:00 CEST → 02:00 CET. A task every 30 minutes fires at 02:30 twice.
    const clock = new ManualClock(Date.UTC(2026, 9, 25, 0, 10));
    const ct = createCaretaker({
      configText: `version: 1\ntimezone: Europe/Berlin\ntasks:\n  half: { action: shell, schedule: '*/30 * * * *', with: { command: 'true' } }\n`,
      baseDir: dir,
      clock,
    });
    const { formatZoned } = await import('../../src/core/local-time.js');
    const [first] = await ct.tasks();
    expect(formatZoned(first!.nextRunAt!, first!.timezone)).toBe('2026-10-25 02:30 CEST');
    expect(formatZoned(Date.UTC(2026, 9, 25, 1, 30), 'Europe/Berlin')).toBe('2026-10-25 02:30 CET');
    await ct.close();
  });
});

describe('the API on the control socket', () => {
  it('answers a run id that is not a number with 400, and a missing run with 404 whether waiting or not', async () => {
    const dir = tempDir('ct-api-');
    writeFileSync(join(dir, 'caretaker.yaml'), GOOD);
    expect(cli(['start', '--daemon'], { cwd: dir }).code).toBe(0);
    stopDir = dir;
    const socket = readHolder(join(dir, '.caretaker'))!.socket!;
    const abc = await call(socket, '/v1/runs/abc');
    expect(abc).toEqual({
      status: 400,
      body: expect.objectContaining({
        error: 'a run id is a whole number such as 42, got "abc"',
        exitCode: 2,
      }),
    });
    expect(await call(socket, '/v1/runs/999')).toMatchObject({
      status: 404,
      body: { error: 'run #999 does not exist' },
    });
    expect(await call(socket, '/v1/runs/999?wait=1')).toMatchObject({
      status: 404,
      body: { error: 'run #999 does not exist' },
    });
  });
});
