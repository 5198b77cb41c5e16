/**
 * What the CLI's quickest answers load (the start-up goals of the architecture issue: `caretaker
 * --version` within 1.3× of `node -e 0`). Each module a cold process loads costs its read,
 * compilation and evaluation; the built CLI runs with every module it loads recorded.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fastCallOf } from '../../src/cli/fast-path.js';
import { VERSION } from '../../src/version.js';
import { tracedCli } from '../support/traced-cli.js';
import { tempDir } from '../support/tmp.js';

describe('the CLI start-up path', () => {
  for (const flag of ['--version', '-V'])
    it(`answers ${flag} from the entry point and the version alone`, () => {
      const r = tracedCli([flag], tempDir('ct-startup-path-'));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
      // (The compile cache is switched on first, so that what loads next can come from it.)
      expect(r.own).toEqual(['cli/compile-cache.js', 'cli/main.js', 'version.js']);
      expect([...r.packages]).toEqual([]);
    });

  it('still reads --version after other words through the full parser', () => {
    const r = tracedCli(['status', '--version'], tempDir('ct-startup-path-'));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${VERSION}\n`);
  });

  it('answers status, list-tasks and validate without the command-line parser, as the parser would', () => {
    const dir = tempDir('ct-startup-path-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      `version: 1\ntasks:\n  hello: { action: shell, schedule: '@hourly', with: { command: 'echo hi' } }\n`,
    );
    for (const command of ['status', 'list-tasks', 'validate']) {
      const fast = tracedCli(['--json', command, '-c', 'caretaker.yaml'], dir);
      // A repeated flag is not the fast path's: the same call, through commander.
      const full = tracedCli(['--json', command, '-c', 'caretaker.yaml', '--json'], dir);
      expect(fast.stderr).toBe('');
      expect(fast.status).toBe(0);
      expect([...fast.packages]).not.toContain('commander');
      expect(fast.own).not.toContain('cli/program.js');
      expect([...full.packages]).toContain('commander');
      const shape = (s: string) => JSON.stringify(JSON.parse(s), (k, v: unknown) => (/At$/.test(k) ? 0 : v));
      expect(shape(fast.stdout)).toBe(shape(full.stdout));
      expect(fast.stdout).toMatch(command === 'validate' ? /"valid": true/ : /hello/);
    }
    // Errors keep their one line and exit code: a missing file, exit 2.
    const missing = tracedCli(['status', '--config', 'nope.yaml'], dir);
    const missingFull = tracedCli(['status', '--config', 'nope.yaml', '--debug', '--debug'], dir);
    expect([...missing.packages]).not.toContain('commander');
    expect(missing.status).toBe(missingFull.status);
    expect(missing.stderr).toBe(missingFull.stderr);
    // An invalid file: the same lines, exit 2, with and without the parser.
    writeFileSync(join(dir, 'bad.yaml'), 'version: 1\ntasks:\n  a: { action: shel }\n');
    const bad = tracedCli(['validate', '-c', 'bad.yaml'], dir);
    const badFull = tracedCli(['validate', '-c', 'bad.yaml', '--debug', '--debug'], dir);
    expect([...bad.packages]).not.toContain('commander');
    expect(bad.status).toBe(2);
    expect(bad.status).toBe(badFull.status);
    expect(bad.stderr).toBe(badFull.stderr);
    expect(bad.stderr).toMatch(/bad\.yaml:3:\d+: tasks\.a\.action: unknown action "shel"/);
  });

  it('leaves every other command line to the parser', () => {
    expect(fastCallOf(['status'])).toEqual({ command: 'status', opts: {} });
    expect(fastCallOf(['-c', 'x.yaml', 'list-tasks', '--debug'])).toEqual({
      command: 'list-tasks',
      opts: { config: 'x.yaml', debug: true },
    });
    expect(fastCallOf(['status', '--config=a.yaml', '--json'])).toEqual({
      command: 'status',
      opts: { config: 'a.yaml', json: true },
    });
    for (const words of [
      [],
      ['status', '--help'],
      ['status', '-h'],
      ['help', 'status'],
      ['status', 'extra'],
      ['status', 'list-tasks'],
      ['status', '--json', '--json'],
      ['status', '-c'],
      ['status', '-c', '--json'],
      ['status', '-cx.yaml'],
      ['status', '--config='],
      ['status', '--version'],
      ['history'],
      ['validate', 'extra'],
      ['status', '--'],
    ])
      expect(fastCallOf(words)).toBeUndefined();
  });
});
