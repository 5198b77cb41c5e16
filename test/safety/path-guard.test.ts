import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandPaths } from '../../src/safety/expand-paths.js';
import { isWithin, PathGuard } from '../../src/safety/path-guard.js';
import { tempDir } from '../support/tmp.js';

describe('path guard', () => {
  it('refuses /, the home directory and the state dir as roots', () => {
    const dir = tempDir();
    const guard = new PathGuard({ stateDir: join(dir, '.caretaker') });
    expect(() => guard.assertRoot('/', 'paths[0]')).toThrow(/refusing to act on \/ /);
    expect(() => guard.assertRoot(homedir(), 'paths[0]')).toThrow(/home directory/);
    expect(() => guard.assertRoot(join(dir, '.caretaker', 'logs'), 'paths[0]')).toThrow(
      /caretaker's own state dir/,
    );
    expect(() => guard.assertRoot(join(dir, 'logs'), 'paths[0]')).not.toThrow();
    expect(guard.isProtected(join(dir, '.caretaker', 'caretaker.db'))).toBe(true);
    expect(guard.isProtected(join(dir, '.caretakerx'))).toBe(false);
  });

  it('follows a symlink only when its target stays inside the root', async () => {
    const dir = tempDir();
    const root = join(dir, 'root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'outside.txt'), 'secret');
    writeFileSync(join(root, 'sub', 'inside.txt'), 'ok');
    symlinkSync(join(dir, 'outside.txt'), join(root, 'escape'));
    symlinkSync(join(root, 'sub', 'inside.txt'), join(root, 'fine'));
    const guard = new PathGuard({ stateDir: join(dir, '.caretaker') });
    expect(await guard.realInside(join(root, 'escape'), root)).toBeUndefined();
    expect(await guard.realInside(join(root, 'fine'), root)).toBe(join(root, 'sub', 'inside.txt'));
    expect(isWithin(join(root, '..', 'x'), root)).toBe(false);
  });

  it('expands globs relative to the config directory, without following directory links', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs', 'old'), { recursive: true });
    mkdirSync(join(dir, 'elsewhere'));
    for (const f of ['logs/a.log', 'logs/b.log', 'logs/c.txt', 'logs/old/d.log', 'elsewhere/e.log'])
      writeFileSync(join(dir, f), f);
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'logs', 'linked'));
    expect(await expandPaths(['logs/*.log'], { baseDir: dir })).toEqual([
      join(dir, 'logs/a.log'),
      join(dir, 'logs/b.log'),
    ]);
    expect(await expandPaths(['logs/**/*.log'], { baseDir: dir })).toEqual([
      join(dir, 'logs/a.log'),
      join(dir, 'logs/b.log'),
      join(dir, 'logs/old/d.log'),
    ]);
    expect(await expandPaths(['logs/c.txt', '/abs/missing'], { baseDir: dir })).toEqual([
      '/abs/missing',
      join(dir, 'logs/c.txt'),
    ]);
  });
});
