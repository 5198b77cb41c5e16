import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCaretaker } from '../../src/create-caretaker.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const CONFIG = `version: 1
state_dir: state
server: { token_env: CT_TEST_API_TOKEN }
tasks:
  tidy:
    action: shell
    schedule: "0 2 * * *"
    with: { command: "true" }
`;

describe('caretaker validate on its own config', () => {
  it('gives the line and column of a YAML syntax error', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'caretaker.yaml'), 'version: 1\nversion: 1\ntasks: {}\n');
    const r = cli(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`${join(dir, 'caretaker.yaml')}:2:1: invalid YAML: Map keys must be unique`);
  });

  it('reports the environment variables it names by presence and length, never the value', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'caretaker.yaml'), CONFIG);
    const unset = cli(['validate'], { cwd: dir, env: { CT_TEST_API_TOKEN: undefined } });
    expect(unset.code).toBe(0);
    expect(unset.stdout).toContain(
      'warning: environment variable CT_TEST_API_TOKEN (server.token_env) is not set',
    );
    const set = cli(['validate', '--json'], { cwd: dir, env: { CT_TEST_API_TOKEN: 'tok-abcdef' } });
    expect(JSON.parse(set.stdout).env).toEqual([
      { name: 'CT_TEST_API_TOKEN', key: 'server.token_env', present: true, length: 10 },
    ]);
    expect(set.stdout).not.toContain('tok-abcdef');
  });

  it('shows what changed since a scheduler loaded the file', async () => {
    const dir = tempDir();
    const file = join(dir, 'caretaker.yaml');
    writeFileSync(file, CONFIG);
    const ct = createCaretaker({ configPath: file });
    await ct.start();
    await ct.stop(0);
    expect(cli(['validate'], { cwd: dir }).stdout).toMatch(
      /no changes since a scheduler last loaded this file/,
    );
    writeFileSync(file, CONFIG.replace('0 2 * * *', '0 3 * * *').replace('"true"', '"echo hi"'));
    const r = cli(['validate'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /2 keys changed since a scheduler last loaded this file \(.*\); `caretaker reload` applies them:\n/,
    );
    expect(r.stdout).toContain('  ~ tasks.tidy.schedule: "0 2 * * *" -> "0 3 * * *"\n');
    expect(r.stdout).toContain('  ~ tasks.tidy.with.command: "true" -> "echo hi"\n');
  });
});
