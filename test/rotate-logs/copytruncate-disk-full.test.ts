/**
 * copytruncate on a full disk, on a real small filesystem (a 4 MiB tmpfs; mounting needs root, as
 * in CI — elsewhere the test says why it is skipped): the partial copy must not stay behind
 * keeping the disk full, the log must be left as it was, and the run must fail.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateLogsAction } from '../../src/actions/rotate-logs.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('rotate-logs copytruncate on a full disk', () => {
  it('removes its partial copy, leaves the log as it was, and fails the run', async (ctx) => {
    const dir = tempDir('ct-ctfull-');
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', logs], { encoding: 'utf8' });
    if (m.status !== 0) {
      if (process.env.CI) throw new Error(`cannot mount a tmpfs: ${m.stderr}`);
      console.log(
        `skipped: cannot mount a tmpfs here (${m.stderr.trim() || 'not root?'}); CI runs it as root`,
      );
      ctx.skip();
    }
    try {
      const log = join(logs, 'app.log');
      // 2.5 MiB of log on a 4 MiB filesystem: its copy cannot fit.
      writeFileSync(
        log,
        randomBytes(2.5 * 1024 * 1024)
          .toString('base64')
          .slice(0, 2.5 * 1024 * 1024),
      );
      const before = sha(log);
      const freeBefore = statfsSync(logs).bavail;
      const r = (
        await runAction(
          rotateLogsAction,
          { paths: ['logs/app.log'], copytruncate: true, rotate: 2 },
          { baseDir: dir, clock: new ManualClock(Date.UTC(2026, 10, 24, 2)), trigger: 'manual' },
        )
      ).result;
      expect(r.ok).toBe(false);
      expect(r.summary).toMatch(
        new RegExp(
          `^${log}: copytruncate could not copy it to ${join(logs, '.app.log.1.caretaker-tmp')}: no space left for the copy \\(\\d+ of 2621440 bytes copied\\); the partial copy was removed and the log left as it was`,
        ),
      );
      expect(readdirSync(logs)).toEqual(['app.log']);
      expect(sha(log)).toBe(before);
      expect(statfsSync(logs).bavail).toBe(freeBefore); // the space is back for the application
      // The next run, with room again, rotates normally.
      writeFileSync(log, 'small now\n');
      const again = (
        await runAction(
          rotateLogsAction,
          { paths: ['logs/app.log'], copytruncate: true, rotate: 2 },
          { baseDir: dir, clock: new ManualClock(Date.UTC(2026, 10, 24, 3)), trigger: 'manual' },
        )
      ).result;
      expect(again.ok).toBe(true);
      expect(readFileSync(join(logs, 'app.log.1'), 'utf8')).toBe('small now\n');
    } finally {
      spawnSync('umount', [logs]);
    }
  });
});
