/**
 * The PathGuard at load time: `caretaker validate` refuses `/`, the home directory, the state dir
 * (and links to them) as the roots file actions act on, and a link named as a prune-files root —
 * with the key path, line and column — instead of the first run failing at 2 AM.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadedBuiltinRegistry } from '../../src/actions/builtin-loaded.js';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

function problems(dir: string, task: string): string[] {
  try {
    parseConfigText(`version: 1\nstate_dir: state\ntasks:\n  t:\n${task}`, join(dir, 'caretaker.yaml'), {
      registry: loadedBuiltinRegistry(),
    });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
  }
}

describe('file action roots checked when the config is loaded', () => {
  it('refuses /, the home directory and the state dir for every file action, at the key', () => {
    const dir = tempDir();
    const home = homedir();
    const cases: [string, string][] = [
      [
        '    action: prune-files\n    with: { paths: [/], older_than: 1d }\n',
        '6 tasks.t.with.paths.0: refusing to act on / (the whole filesystem)',
      ],
      [
        `    action: prune-files\n    with: { paths: ["${home}"], older_than: 1d }\n`,
        `6 tasks.t.with.paths.0: refusing to act on the home directory ${home}`,
      ],
      [
        '    action: prune-files\n    with: { paths: [cache], older_than: 1d, archive_to: state/archive }\n',
        `6 tasks.t.with.archive_to: ${join(dir, 'state/archive')} is caretaker's own state dir; choose a directory outside ${join(dir, 'state')}`,
      ],
      [
        '    action: rotate-logs\n    with: { paths: ["/*.log"] }\n',
        '6 tasks.t.with.paths.0: refusing to act on / (the whole filesystem)',
      ],
      [
        '    action: rotate-logs\n    with: { paths: [state/logs/app.log] }\n',
        `6 tasks.t.with.paths.0: ${join(dir, 'state/logs')} is caretaker's own state dir; choose a directory outside ${join(dir, 'state')}`,
      ],
      [
        '    action: backup\n    with: { paths: [data], dest: / }\n',
        '6 tasks.t.with.dest: refusing to act on / (the whole filesystem)',
      ],
      [
        '    action: backup\n    with: { paths: [/], dest: backups }\n',
        '6 tasks.t.with.paths.0: refusing to back up / as a whole; list the directories to back up',
      ],
      [
        '    action: export\n    with: { source: history, output: state }\n',
        `6 tasks.t.with.output: ${join(dir, 'state')} is caretaker's own state dir; choose a directory outside ${join(dir, 'state')}`,
      ],
      [
        '    action: shell\n    rollback: { paths: ["/"] }\n    with: { command: "true" }\n',
        '6 tasks.t.rollback.paths.0: refusing to act on / (the whole filesystem)',
      ],
    ];
    for (const [task, expected] of cases) expect(problems(dir, task), task).toEqual([expected]);
    // A backup reads its paths: the home directory is a fine source.
    expect(problems(dir, `    action: backup\n    with: { paths: ["${home}"], dest: backups }\n`)).toEqual(
      [],
    );
  });

  it('refuses a link named as a prune-files root, and links to / or the state dir anywhere', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'cache'));
    mkdirSync(join(dir, 'outside'));
    symlinkSync('../outside', join(dir, 'cache', 'link-out'));
    symlinkSync('/', join(dir, 'slash'));
    mkdirSync(join(dir, 'state'));
    symlinkSync(join(dir, 'state'), join(dir, 'state-link'));
    expect(
      problems(dir, '    action: prune-files\n    with: { paths: [cache/link-out], older_than: 1d }\n'),
    ).toEqual([
      `6 tasks.t.with.paths.0: ${join(dir, 'cache/link-out')} is a symbolic link (to ../outside); a link named as a root is not followed — name the directory it points to`,
    ]);
    expect(problems(dir, '    action: rotate-logs\n    with: { paths: ["slash/*.log"] }\n')).toEqual([
      `6 tasks.t.with.paths.0: ${join(dir, 'slash')} (a link to /): refusing to act on / (the whole filesystem)`,
    ]);
    expect(problems(dir, '    action: export\n    with: { source: history, output: state-link }\n')).toEqual([
      `6 tasks.t.with.output: ${join(dir, 'state-link')} (a link to ${join(dir, 'state')}): ${join(dir, 'state')} is caretaker's own state dir; choose a directory outside ${join(dir, 'state')}`,
    ]);
    // rotate-logs works through a linked directory (see the rotate-logs tests); only / and the state dir are refused.
    expect(problems(dir, '    action: rotate-logs\n    with: { paths: ["cache/link-out/*.log"] }\n')).toEqual(
      [],
    );
  });

  it('caretaker validate reports it with exit 2', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'cache'));
    mkdirSync(join(dir, 'outside'));
    symlinkSync('../outside', join(dir, 'cache', 'link-out'));
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  prune:\n    action: prune-files\n    with: { paths: [cache/link-out], older_than: 1d }\n',
    );
    const r = cli(['validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `caretaker.yaml:5:21: tasks.prune.with.paths.0: ${join(dir, 'cache/link-out')} is a symbolic link (to ../outside)`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
