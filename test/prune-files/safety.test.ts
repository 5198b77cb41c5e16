import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneFilesAction } from '../../src/actions/prune-files.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';
import { file, NOW } from './tree.js';

const clock = () => new ManualClock(NOW);

describe('prune-files never leaves its roots', () => {
  it('does not follow a link to a directory outside the root, nor remove the link', async () => {
    const dir = tempDir();
    const outside = file(dir, 'precious/data.db', 400);
    file(dir, 'cache/old.bin', 400);
    symlinkSync(join(dir, 'precious'), join(dir, 'cache', 'escape'));
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['cache'], older_than: '1d' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(existsSync(outside)).toBe(true);
    expect(existsSync(join(dir, 'cache/old.bin'))).toBe(false);
    expect(lstatSync(join(dir, 'cache', 'escape')).isSymbolicLink()).toBe(true);
    expect((r.details!.roots as { symlinksSkipped: number }[])[0]!.symlinksSkipped).toBe(1);
  });

  it('does not remove the target of a link to a file outside the root, nor the link itself', async () => {
    const dir = tempDir();
    const outside = file(dir, 'etc/passwd', 400);
    mkdirSync(join(dir, 'cache'));
    symlinkSync(outside, join(dir, 'cache', 'passwd'));
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['cache', 'cache/*', 'cache/passwd'], older_than: '1d' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(existsSync(outside)).toBe(true);
    expect(readlinkSync(join(dir, 'cache', 'passwd'))).toBe(outside);
    expect(r.details!.filesRemoved).toBe(0);
    expect(r.warnings).toEqual([
      expect.stringMatching(
        /paths\[2\].*is a symbolic link .*a link named as a root is not followed; skipped/,
      ),
    ]);
  });

  it('does not prune through a link named as a root: it is skipped with a warning', async () => {
    // The reported case: cache/link-out -> ../outside deleted the files outside the tree.
    const dir = tempDir();
    const outside = file(dir, 'outside/keep.bin', 400);
    const inside = file(dir, 'cache/old.bin', 400);
    symlinkSync('../outside', join(dir, 'cache', 'link-out'));
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['cache/link-out', 'cache/link-out/*.bin'], older_than: '1d' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(existsSync(outside)).toBe(true);
    expect(existsSync(inside)).toBe(true);
    expect(r.details!.filesRemoved).toBe(0);
    expect(r.warnings).toEqual([
      `paths[0] (cache/link-out): ${join(dir, 'cache/link-out')} is a symbolic link (to ../outside); a link named as a root is not followed; skipped`,
      `paths[1] (cache/link-out/*.bin): ${join(dir, 'cache/link-out')} is a symbolic link (to ../outside); a link named as a root is not followed; skipped`,
    ]);
  });

  it('skips the state dir when a root contains it', async () => {
    const dir = tempDir();
    const db = file(dir, '.caretaker/caretaker.db', 400);
    const stateFile = file(dir, '.caretaker/tasks/t/state.json', 400);
    file(dir, 'old.log', 400);
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['.'], older_than: '1d', remove_empty_dirs: true },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(existsSync(db)).toBe(true);
    expect(existsSync(stateFile)).toBe(true);
    expect(existsSync(join(dir, 'old.log'))).toBe(false);
  });

  it('skips the state dir when it is reached under another name (a link to the root)', async () => {
    const dir = tempDir();
    const real = join(dir, 'real');
    const db = file(real, '.caretaker/caretaker.db', 400);
    symlinkSync(real, join(dir, 'alias'));
    // The state dir is configured through the link; the root is named by its real path.
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: [real], older_than: '1d' },
        { baseDir: dir, stateDir: join(dir, 'alias', '.caretaker'), clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(existsSync(db)).toBe(true);
  });

  it('refuses /, the home directory, the state dir and links to them as roots', async () => {
    const dir = tempDir();
    symlinkSync('/', join(dir, 'slash'));
    mkdirSync(join(dir, '.caretaker', 'sub'), { recursive: true });
    symlinkSync(join(dir, '.caretaker'), join(dir, 'state-link'));
    const cases: [unknown, RegExp][] = [
      ['/', /refusing to act on \/ /],
      ['/*.tmp', /refusing to act on \/ /],
      [homedir(), /home directory/],
      ['.caretaker/sub', /caretaker's own state dir/],
      ['slash', /a link to \/\).*refusing to act on \//],
      ['state-link', /caretaker's own state dir/],
    ];
    for (const [path, message] of cases) {
      const r = (
        await runAction(
          pruneFilesAction,
          { paths: [path], older_than: '1d' },
          { baseDir: dir, clock: clock() },
        )
      ).result;
      expect(r.ok, String(path)).toBe(false);
      expect(r.summary, String(path)).toMatch(message);
      expect(r.changed).toBe(false);
    }
    const a = (
      await runAction(
        pruneFilesAction,
        { paths: ['x'], older_than: '1d', archive_to: '.caretaker/archive' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(a.summary).toMatch(/archive_to: .* caretaker's own state dir/);
  });

  it('does not cross into another filesystem mounted inside a root', async (t) => {
    const dir = tempDir();
    const inner = join(dir, 'cache', 'mounted');
    mkdirSync(inner, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', inner], { stdio: 'pipe' });
    } catch (err) {
      // Mounting needs root; the CI runs the suite as root, so there this must not be skipped.
      if (process.env.CI) throw err;
      console.warn(`skipped: cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]})`);
      t.skip();
      return;
    }
    try {
      const onOtherFs = file(inner, 'old.bin', 400);
      file(dir, 'cache/old.bin', 400);
      const r = (
        await runAction(
          pruneFilesAction,
          { paths: ['cache'], older_than: '1d' },
          { baseDir: dir, clock: clock() },
        )
      ).result;
      expect(existsSync(onOtherFs)).toBe(true);
      expect(existsSync(join(dir, 'cache/old.bin'))).toBe(false);
      expect(r.warnings).toEqual([
        `${inner}: another filesystem is mounted here; not entered (name it in paths to prune it)`,
      ]);
      // Named as a root of its own, it is pruned.
      await runAction(
        pruneFilesAction,
        { paths: ['cache/mounted'], older_than: '1d' },
        { baseDir: dir, clock: clock() },
      );
      expect(existsSync(onOtherFs)).toBe(false);
    } finally {
      execFileSync('umount', [inner]);
    }
  });

  it('reports a missing root as a warning, not a failure', async () => {
    const dir = tempDir();
    const r = (
      await runAction(
        pruneFilesAction,
        { paths: ['nope'], older_than: '1d' },
        { baseDir: dir, clock: clock() },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual(['nope: does not exist; nothing to prune there']);
  });

  it('stops at an aborted signal without finishing the walk', async () => {
    const dir = tempDir();
    for (let i = 0; i < 50; i++) file(dir, `c/d${i}/f`, 10);
    const ac = new AbortController();
    ac.abort(new Error('cancelled by test'));
    await expect(
      runAction(
        pruneFilesAction,
        { paths: ['c'], older_than: '1d' },
        { baseDir: dir, clock: clock(), signal: ac.signal },
      ),
    ).rejects.toThrow('cancelled by test');
    expect(existsSync(join(dir, 'c/d0/f'))).toBe(true);
  });
});
