import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDir, makeDirSync } from '../../src/os/make-dir.js';
import { tempDir } from '../support/tmp.js';

describe('makeDir / makeDirSync', () => {
  it('create missing parents, return the first directory created, accept one already there', async () => {
    const dir = tempDir('ct-mkdir-');
    expect(makeDirSync(join(dir, 'a', 'b', 'c'), { mode: 0o700 })).toBe(join(dir, 'a'));
    expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
    expect(statSync(join(dir, 'a', 'b')).mode & 0o777).toBe(0o700);
    expect(makeDirSync(join(dir, 'a', 'b'))).toBeUndefined();
    expect(await makeDir(join(dir, 'x', 'y'))).toBe(join(dir, 'x'));
    expect(await makeDir(join(dir, 'x', 'y'))).toBeUndefined();
  });

  it('refuse a path through a file with ENOTDIR', async () => {
    const dir = tempDir('ct-mkdir-');
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => makeDirSync(join(dir, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => makeDirSync(join(dir, 'file', 'sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    await expect(makeDir(join(dir, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it.skipIf(!existsSync('/proc/self'))(
    'end with ENOENT under /proc, where mkdir -p of Node itself spins forever',
    async () => {
      const started = Date.now();
      expect(() => makeDirSync('/proc/caretaker-test/state')).toThrow(
        expect.objectContaining({ code: 'ENOENT' }),
      );
      await expect(makeDir('/proc/caretaker-test/state')).rejects.toMatchObject({ code: 'ENOENT' });
      expect(Date.now() - started).toBeLessThan(1_000);
    },
  );
});
