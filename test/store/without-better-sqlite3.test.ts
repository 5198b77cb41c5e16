/**
 * An installation without better-sqlite3, as `npm install caretaker` leaves it (an optional peer
 * dependency is never installed by npm): the built CLI, copied next to a node_modules that has
 * every package but better-sqlite3. On Node 22 and later that is all caretaker needs; on Node 20
 * it says what to install, with exit code 2.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** A copy of dist/ whose node_modules lacks better-sqlite3 (the rest are links to ours). */
function installWithoutBetterSqlite3(): string {
  const dir = tempDir('ct-nobs3-');
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'better-sqlite3' || name === '.bin') continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  return dir;
}

describe('caretaker installed without better-sqlite3', () => {
  it(
    NODE_MAJOR >= 22
      ? `runs on Node ${process.versions.node} with node:sqlite alone`
      : `says on Node ${process.versions.node} that better-sqlite3 is needed, with exit code 2`,
    () => {
      const install = installWithoutBetterSqlite3();
      const project = join(install, 'project');
      mkdirSync(project);
      writeFileSync(
        join(project, 'caretaker.yaml'),
        'version: 1\ntasks:\n  hello:\n    action: shell\n    with: { command: "echo hi" }\n',
      );
      const cli = (...args: string[]) =>
        spawnSync(process.execPath, [join(install, 'dist', 'cli', 'main.js'), ...args], {
          cwd: project,
          encoding: 'utf8',
        });
      const run = cli('run-task', 'hello', '--wait', '--json');
      if (NODE_MAJOR >= 22) {
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({ task: 'hello', status: 'success' });
        const history = cli('history', '--json');
        expect(history.status).toBe(0);
        expect(JSON.parse(history.stdout)).toMatchObject([{ task: 'hello', status: 'success' }]);
      } else {
        expect(run.status).toBe(2);
        expect(run.stderr).toMatch(/better-sqlite3 is not installed.*npm install better-sqlite3/);
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
      }
    },
  );
});
