/**
 * rotate-logs and symbolic links: a log directory reached through a link (logs -> /data/logs) is
 * rotated where it really is, whatever the working directory; a log that is itself a link is
 * never followed, and each one a glob matches is named in a warning.
 */
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateLogsAction } from '../../src/actions/rotate-logs.js';
import { ManualClock } from '../../src/engine/clock.js';
import { expandPaths } from '../../src/safety/expand-paths.js';
import { runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';

const clock = () => new ManualClock(Date.UTC(2026, 10, 24, 2));

describe('rotate-logs through symbolic links', () => {
  it('rotates logs in a directory reached through a link, from any working directory', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data', 'logs'), { recursive: true });
    symlinkSync('data/logs', join(dir, 'logs'));
    writeFileSync(join(dir, 'data', 'logs', 'app.log'), 'one\n');
    const cwd = process.cwd();
    try {
      for (const where of ['/', dir]) {
        process.chdir(where);
        expect(await expandPaths(['logs/*.log'], { baseDir: dir }), where).toEqual([
          join(dir, 'logs', 'app.log'),
        ]);
      }
    } finally {
      process.chdir(cwd);
    }
    const r = (
      await runAction(
        rotateLogsAction,
        { paths: ['logs/*.log'], rotate: 2, olddir: 'old' },
        { baseDir: dir, clock: clock(), trigger: 'manual' },
      )
    ).result;
    expect(r.ok, r.summary).toBe(true);
    expect(r.warnings).toBeUndefined();
    expect(r.details!.rotated).toEqual([join(dir, 'data', 'logs', 'app.log')]);
    expect(readFileSync(join(dir, 'data', 'logs', 'old', 'app.log.1'), 'utf8')).toBe('one\n');
  });

  it('names in a warning each linked log a glob matches, and leaves it and its target alone', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'app.log'), 'app\n');
    writeFileSync(join(dir, 'elsewhere.txt'), 'not a log of ours\n');
    symlinkSync('../elsewhere.txt', join(dir, 'logs', 'linked.log'));
    const r = (
      await runAction(
        rotateLogsAction,
        { paths: ['logs/*.log'], rotate: 2 },
        { baseDir: dir, clock: clock(), trigger: 'manual' },
      )
    ).result;
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([
      `${join(dir, 'logs', 'linked.log')} is a symbolic link: not rotated (links are never followed; name its target)`,
    ]);
    expect(readdirSync(join(dir, 'logs')).sort()).toEqual(['app.log.1', 'linked.log']);
    expect(readFileSync(join(dir, 'elsewhere.txt'), 'utf8')).toBe('not a log of ours\n');
  });
});
