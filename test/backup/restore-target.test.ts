/**
 * `backup restore --to DIR` where DIR cannot be a directory we write into: one line naming
 * --to, exit 2, nothing written. Under /proc the restore used to hang (node's recursive mkdir
 * loops there); under /sys and below a file it was an internal error.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

function backedUp(): { dir: string; name: string } {
  const dir = tempDir('ct-restore-to-');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data/a.txt'), 'alpha\n');
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    'version: 1\nstate_dir: .caretaker\ntasks:\n  nightly: { action: backup, with: { paths: [data], dest: backups } }\n',
  );
  expect(cli(['run-task', 'nightly', '--wait'], { cwd: dir }).code).toBe(0);
  const list = JSON.parse(cli(['backup', 'list', '--json'], { cwd: dir }).stdout) as { name: string }[];
  return { dir, name: list[0]!.name };
}

describe('backup restore --to a directory that cannot be made', () => {
  it('is one line naming --to and exit 2, for /proc, /sys, a path below a file, and a file', () => {
    const { dir, name } = backedUp();
    writeFileSync(join(dir, 'a-file'), 'x');
    const cases: [string, RegExp][] = [
      ['/proc/caretaker-restore', /cannot create the directory to restore into \(.*\)$/],
      ['/sys/caretaker-restore', /cannot create the directory to restore into \(.*\)$/],
      [join(dir, 'a-file', 'below'), /a-file is not a directory$/],
      [join(dir, 'a-file'), /: is not a directory$/],
    ];
    for (const [to, said] of cases) {
      const r = cli(['backup', 'restore', name, '--to', to], { cwd: dir });
      expect(r.stderr, to).toMatch(new RegExp(`^caretaker: --to ${to.replace(/[./]/g, '\\$&')}: `));
      expect(r.stderr.trim().split('\n'), to).toHaveLength(1);
      expect(r.stderr.trim(), to).toMatch(said);
      expect(r.code, to).toBe(2);
      const json = cli(['backup', 'restore', name, '--to', to, '--json'], { cwd: dir });
      expect(json.code).toBe(2);
      expect((JSON.parse(json.stderr) as { error: string }).error).toContain(`--to ${to}`);
    }
    expect(readFileSync(join(dir, 'a-file'), 'utf8')).toBe('x');
    expect(existsSync('/proc/caretaker-restore')).toBe(false);
    // A --to whose parents are missing is made, level by level.
    const deep = join(dir, 'out', 'one', 'two');
    const ok = cli(['backup', 'restore', name, '--to', deep], { cwd: dir });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(readFileSync(join(deep, dir.slice(1), 'data/a.txt'), 'utf8')).toBe('alpha\n');
  });
});
