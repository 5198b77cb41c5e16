/**
 * `caretaker history` when a daemon loaded the configuration as it is on disk (its stamp carries
 * the file's SHA-256): the file is known to load, so the runs are read from the store without
 * loading the YAML parser, the schemas or the actions. The configuration is still consulted when
 * an id matches no run (unknown task or one that has not run) and when the file changed since.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordLoadedConfig } from '../../src/config/own-config-check.js';
import { cli } from '../support/cli.js';
import { tracedCli } from '../support/traced-cli.js';
import { tempDir } from '../support/tmp.js';

const GOOD = `version: 1
tasks:
  hello: { action: shell, schedule: '@hourly', with: { command: 'echo hi' } }
  later: { action: shell, schedule: '@daily', with: { command: 'echo later' } }
`;

async function stamped(): Promise<string> {
  const dir = tempDir('ct-history-fast-');
  writeFileSync(join(dir, 'caretaker.yaml'), GOOD);
  expect(cli(['run-task', 'hello'], { cwd: dir }).code).toBe(0);
  await recordLoadedConfig(join(dir, 'caretaker.yaml'), join(dir, '.caretaker'), Date.now());
  return dir;
}

describe('history with a configuration a daemon loaded', () => {
  it('reads the store without the parser, the schemas or the actions', async () => {
    const dir = await stamped();
    for (const args of [['history'], ['history', 'hello', '--limit', '5']]) {
      const r = tracedCli(args, dir);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/#1\s+hello\s+success/);
      expect([...r.packages]).not.toContain('yaml');
      expect([...r.packages]).not.toContain('zod');
      expect(r.own.filter((f) => f.startsWith('actions/') || f === 'config/load.js')).toEqual([]);
    }
  });

  it('still tells an unknown id from a task that has not run, from the configuration', async () => {
    const dir = await stamped();
    const unknown = cli(['history', 'nope'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown task "nope"; tasks: hello, later/);
    const later = cli(['history', 'later'], { cwd: dir });
    expect(later.code).toBe(0);
    expect(later.stdout).toBe('later has not run yet\n');
  });

  it('warns again once the file changed and no longer loads', async () => {
    const dir = await stamped();
    writeFileSync(join(dir, 'caretaker.yaml'), `${GOOD}  broken: { action: nope }\n`);
    const r = cli(['history'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/#1\s+hello\s+success/);
    expect(r.stderr).toMatch(/^warning: .*has errors \(caretaker validate lists them\)/);
  });
});
