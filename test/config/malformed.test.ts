/**
 * Malformed configurations: each must give the file, line and column, the key path, what was
 * expected — and `caretaker validate` must exit 2 with every problem, never a stack trace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { tempDir } from '../support/tmp.js';

const head = 'version: 1\ntasks:\n';

interface Case {
  readonly name: string;
  readonly yaml: string;
  readonly line: number;
  readonly message: RegExp;
}

const cases: Case[] = [
  { name: 'not YAML at all', yaml: 'version: 1\ntasks: [\n', line: 3, message: /invalid YAML/ },
  {
    name: 'a duplicate key',
    yaml: `${head}  a: { action: shell, with: { command: x } }\n  a: { action: shell, with: { command: y } }\n`,
    line: 4,
    message: /invalid YAML: Map keys must be unique/,
  },
  {
    name: 'an empty file',
    yaml: '',
    line: 1,
    message: /expected a map with version: 1 and tasks:, got an empty file/,
  },
  { name: 'a list instead of a map', yaml: '- a\n- b\n', line: 1, message: /expected a map .* got a list/ },
  {
    name: 'a wrong version',
    yaml: 'version: 2\ntasks: {}\n',
    line: 1,
    message: /version: expected version: 1/,
  },
  {
    name: 'no tasks key',
    yaml: 'version: 1\n',
    line: 1,
    message: /tasks: is required \(expected a map of task ids to tasks\)/,
  },
  {
    name: 'a misspelt top-level key',
    yaml: 'version: 1\nconcurency: 2\ntasks: {}\n',
    line: 2,
    message: /concurency: unknown key "concurency" \(did you mean "concurrency"\?\)/,
  },
  {
    name: 'a misspelt task key',
    yaml: `${head}  a:\n    action: shell\n    schedul: "@daily"\n    with: { command: x }\n`,
    line: 5,
    message: /tasks\.a\.schedul: unknown key "schedul" \(did you mean "schedule"\?\)/,
  },
  {
    name: 'an unknown action',
    yaml: `${head}  a: { action: defragment }\n`,
    line: 3,
    message: /tasks\.a\.action: unknown action "defragment"; available: shell, http, module, /,
  },
  {
    name: 'a misspelt action',
    yaml: `${head}  a: { action: shel, with: { command: x } }\n`,
    line: 3,
    message: /unknown action "shel" \(did you mean "shell"\?\)/,
  },
  {
    name: 'a missing action',
    yaml: `${head}  a: { schedule: "@daily" }\n`,
    line: 3,
    message: /tasks\.a\.action: is required/,
  },
  {
    name: 'a cron with 7 fields',
    yaml: `${head}  a: { action: shell, schedule: "0 0 0 * * * 2027", with: { command: x } }\n`,
    line: 3,
    message: /tasks\.a\.schedule: "0 0 0 \* \* \* 2027" has 7 fields; expected a cron expression of 5 fields/,
  },
  {
    name: 'a cron value out of range',
    yaml: `${head}  a: { action: shell, schedule: "0 25 * * *", with: { command: x } }\n`,
    line: 3,
    message: /not a valid cron expression: Invalid value for hour: 25/,
  },
  {
    name: 'a bad interval',
    yaml: `${head}  a: { action: shell, schedule: "every fortnight", with: { command: x } }\n`,
    line: 3,
    message: /after "every" expected a duration such as/,
  },
  {
    name: 'a bad duration',
    yaml: `${head}  a: { action: shell, timeout: 10 minutes, with: { command: x } }\n`,
    line: 3,
    message: /tasks\.a\.timeout: expected a duration such as 500ms, 30s, 10m, 6h, 7d or 2w/,
  },
  {
    name: 'a zero timeout',
    yaml: `${head}  a: { action: shell, timeout: 0s, with: { command: x } }\n`,
    line: 3,
    message: /tasks\.a\.timeout: must be more than zero/,
  },
  {
    name: 'a negative concurrency',
    yaml: 'version: 1\nconcurrency: -1\ntasks: {}\n',
    line: 2,
    message: /concurrency: expected a number ≥ 1, got -1/,
  },
  {
    name: 'a fractional concurrency',
    yaml: 'version: 1\nconcurrency: 2.5\ntasks: {}\n',
    line: 2,
    message: /concurrency: expected an integer, got 2.5/,
  },
  {
    name: 'a bad size',
    yaml: 'version: 1\nhistory: { output_tail: 12 parsecs }\ntasks: {}\n',
    line: 2,
    message: /history\.output_tail: expected a size such as 512KB, 10MB or 1GB/,
  },
  {
    name: 'a window hour out of range',
    yaml: `${head}  a: { action: shell, window: { hours: "1-25" }, with: { command: x } }\n`,
    line: 3,
    message: /tasks\.a\.window\.hours: "25" is not an hour; expected 0-23/,
  },
  {
    name: 'a misspelt weekday',
    yaml: `${head}  a: { action: shell, window: { days: "mon-fry" }, with: { command: x } }\n`,
    line: 3,
    message: /tasks\.a\.window\.days: "fry" is not a weekday/,
  },
  {
    name: 'an unknown depends_on target',
    yaml: `${head}  backup: { action: shell, with: { command: x } }\n  rotate: { action: shell, depends_on: [bakup], with: { command: x } }\n`,
    line: 4,
    message: /tasks\.rotate\.depends_on\.0: unknown task "bakup" \(did you mean "backup"\?\)/,
  },
  {
    name: 'a dependency cycle',
    yaml: `${head}  a: { action: shell, depends_on: [b], with: { command: x } }\n  b: { action: shell, depends_on: [c], with: { command: x } }\n  c: { action: shell, depends_on: [a], with: { command: x } }\n`,
    line: 3,
    message: /dependency cycle: a → b → c → a/,
  },
  {
    name: 'a task depending on itself',
    yaml: `${head}  a: { action: shell, depends_on: [a], with: { command: x } }\n`,
    line: 3,
    message: /a task cannot depend on itself/,
  },
  {
    name: 'an undefined group',
    yaml: `version: 1\ngroups: { disk-heavy: 1 }\ntasks:\n  a: { action: shell, group: disk-heavy2, with: { command: x } }\n`,
    line: 4,
    message: /group "disk-heavy2" is not defined \(did you mean "disk-heavy"\?\)/,
  },
  {
    name: 'a group limit of zero',
    yaml: 'version: 1\ngroups: { db: 0 }\ntasks: {}\n',
    line: 2,
    message: /groups\.db: expected a group limit of at least 1/,
  },
  {
    name: 'an unknown time zone',
    yaml: 'version: 1\ntimezone: Mars/Olympus\ntasks: {}\n',
    line: 2,
    message: /timezone: unknown time zone "Mars\/Olympus"; expected an IANA name/,
  },
  {
    name: 'a bad priority',
    yaml: `${head}  a: { action: shell, priority: urgent, with: { command: x } }\n`,
    line: 3,
    message: /tasks\.a\.priority: expected one of low, medium, high, critical, got "urgent"/,
  },
  {
    name: 'a bad overlap policy',
    yaml: `${head}  a: { action: shell, overlap: replac, with: { command: x } }\n`,
    line: 3,
    message: /expected one of forbid, queue, replace, got "replac" \(did you mean "replace"\?\)/,
  },
  {
    name: 'an impact above 100',
    yaml: `${head}  a: { action: shell, impact: { performance: 140 }, with: { command: x } }\n`,
    line: 3,
    message: /tasks\.a\.impact\.performance: expected a number ≤ 100, got 140/,
  },
  {
    name: 'a retries object without count',
    yaml: `${head}  a: { action: shell, retries: { backoff: 30s }, with: { command: x } }\n`,
    line: 3,
    message: /tasks\.a\.retries\.count: is required/,
  },
  {
    name: 'retries as text',
    yaml: `${head}  a: { action: shell, retries: lots, with: { command: x } }\n`,
    line: 3,
    message: /tasks\.a\.retries: expected a number of retries, or \{ count, backoff, max_backoff \}/,
  },
  {
    name: "an action's missing option",
    yaml: `${head}  a: { action: shell, with: { cwd: /tmp } }\n`,
    line: 3,
    message: /tasks\.a\.with\.command: expected a command line/,
  },
  {
    name: "an action's unknown option",
    yaml: `${head}  a:\n    action: shell\n    with:\n      command: x\n      succes_codes: [0, 1]\n`,
    line: 7,
    message: /tasks\.a\.with\.succes_codes: unknown key "succes_codes" \(did you mean "success_codes"\?\)/,
  },
  {
    name: 'an http URL that is not one',
    yaml: `${head}  a: { action: http, with: { url: "ftp://example.org" } }\n`,
    line: 3,
    message: /tasks\.a\.with\.url: expected an http:\/\/ or https:\/\/ URL/,
  },
  {
    name: 'a bad task id',
    yaml: `${head}  "bad id!": { action: shell, with: { command: x } }\n`,
    line: 3,
    message: /expected a task id of letters, digits/,
  },
  {
    name: 'a store of an unknown kind (its password masked)',
    yaml: 'version: 1\nstore: mysql://u:s3cret@db/caretaker\ntasks: {}\n',
    line: 2,
    message: /store: expected sqlite, sqlite:PATH or postgres:\/\/…, got "mysql:\/\/u:\*\*\*@db\/caretaker"/,
  },
  {
    name: 'store_env naming an unset variable',
    yaml: 'version: 1\nstore_env: CARETAKER_TEST_UNSET_STORE_URL\ntasks: {}\n',
    line: 2,
    message: /store_env: the environment variable CARETAKER_TEST_UNSET_STORE_URL is not set/,
  },
];

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe('malformed configurations', () => {
  // The control for every case below: the same command on a well-formed file passes, so each
  // exit 2 comes from the malformation, not from validate refusing everything.
  it('accepts a well-formed file: exit 0 and nothing on stderr', async () => {
    const dir = tempDir('ct-config-');
    const file = join(dir, 'caretaker.yaml');
    writeFileSync(
      file,
      `${head}  a:\n    action: shell\n    schedule: "0 2 * * *"\n    timeout: 5m\n    with: { command: x }\n  b: { action: shell, depends_on: [a], with: { command: y } }\n`,
    );
    const { io, out, err } = capture();
    expect(await runCli(['node', 'caretaker', 'validate', '-c', file], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out.join('\n')).toMatch(/2 tasks/);
  });

  it.each(cases)('$name', async ({ yaml, line, message }) => {
    const dir = tempDir('ct-config-');
    const file = join(dir, 'caretaker.yaml');
    writeFileSync(file, yaml);
    const { io, err } = capture();
    const code = await runCli(['node', 'caretaker', 'validate', '-c', file], io);
    expect(code).toBe(2);
    const text = err.join('\n');
    const hit = text.split('\n').find((l) => message.test(l));
    expect(hit, `no line matches ${message} in:\n${text}`).toBeDefined();
    expect(hit!.startsWith(`${file}:${line}:`)).toBe(true);
    expect(hit!.slice(file.length)).toMatch(/^:\d+:\d+: /); // line and column
    expect(text).not.toMatch(/\n\s+at .+:\d+:\d+\)?/); // no stack trace
  });

  it('reports every problem in one go, in file order', async () => {
    const dir = tempDir('ct-config-');
    const file = join(dir, 'caretaker.yaml');
    writeFileSync(
      file,
      `version: 1\nconcurency: 2\ntasks:\n  a: { action: shel, with: { command: x } }\n  b: { action: shell, timeout: soon, with: { command: x } }\n`,
    );
    const { io, err } = capture();
    expect(await runCli(['node', 'caretaker', 'validate', '-c', file], io)).toBe(2);
    const lines = err
      .filter((l) => l.startsWith(file))
      .map((l) => Number(l.slice(file.length + 1).split(':')[0]));
    expect(lines).toEqual([2, 4, 5]);
    expect(err.at(-1)).toBe('3 problems found');
  });

  it('never echoes a password a wrong value carries', async () => {
    const dir = tempDir('ct-config-');
    const file = join(dir, 'caretaker.yaml');
    writeFileSync(
      file,
      `version: 1\ntasks:\n  a: { action: http, with: { url: "http://127.0.0.1/", method: "ftp://admin:hunter2-secret@files.example.org/x" } }\n`,
    );
    const { io, err } = capture();
    expect(await runCli(['node', 'caretaker', 'validate', '-c', file], io)).toBe(2);
    expect(err.join('\n')).toMatch(/got "ftp:\/\/admin:\*\*\*@files\.example\.org\/x"/);
    expect(err.join('\n')).not.toContain('hunter2');
  });

  it('gives --json errors as data', async () => {
    const dir = tempDir('ct-config-');
    const file = join(dir, 'caretaker.yaml');
    writeFileSync(
      file,
      `version: 1\ntasks:\n  a: { action: shell, schedule: "@sometimes", with: { command: x } }\n`,
    );
    const { io, out } = capture();
    expect(await runCli(['node', 'caretaker', 'validate', '--json', '-c', file], io)).toBe(2);
    const result = JSON.parse(out.join('\n'));
    expect(result).toMatchObject({
      valid: false,
      errors: [{ line: 3, column: 33, path: 'tasks.a.schedule' }],
    });
    expect(result.errors[0].message).toMatch(/unknown nickname/);
  });
});
