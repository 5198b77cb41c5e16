/**
 * The daemon's log file on a full disk (a real 1 MiB tmpfs; mounting needs root, elsewhere the
 * test says why it is skipped): a failed write is said once, is no uncaught error, and does not
 * hold the process at exit (pino's asynchronous destination retried its exit flush forever);
 * the held lines go out once space returns.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { fillUp } from '../support/full-disk.js';

const DIST_LOGGER = resolve(import.meta.dirname, '..', '..', 'dist', 'engine', 'logger.js');

function whyNoTmpfs(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  if (spawnSync('mount', ['--version']).error) return 'mount is not available';
  return undefined;
}

const tmpfsReason = whyNoTmpfs();
if (tmpfsReason) console.warn(`[skipped] log file on a full disk: ${tmpfsReason}`);

describe.skipIf(tmpfsReason !== undefined)('log file on a full disk (real tmpfs)', () => {
  it('says so once, keeps the process alive and able to exit, and writes the held lines when it can', () => {
    const state = join(tempDir('ct-logfull-'), 'state');
    mkdirSync(state, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', state]).status).toBe(0);
    onTestFinished(() => void spawnSync('umount', ['-l', state]));
    mkdirSync(join(state, 'logs'));
    fillUp(join(state, 'filler'));
    // A child process: it logs on the full disk, frees space, logs again, and exits.
    const script = `
      import { rmSync } from 'node:fs';
      import { createLogger } from ${JSON.stringify(DIST_LOGGER)};
      const logger = createLogger({ stateDir: ${JSON.stringify(state)}, level: 'info', console: false });
      for (let i = 0; i < 50; i++) logger.info({ i, pad: 'x'.repeat(200) }, 'while full');
      rmSync(${JSON.stringify(join(state, 'filler'))});
      logger.info('space is back');
      process.exit(0);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.signal).toBeNull(); // not killed by the timeout: it could exit
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /^caretaker: cannot write the log file .*caretaker\.log \(ENOSPC\); log lines are held/,
      ),
      expect.stringMatching(/^caretaker: the log file .*caretaker\.log is writable again$/),
    ]);
    const log = readFileSync(join(state, 'logs', 'caretaker.log'), 'utf8');
    expect(log.split('while full').length - 1).toBe(50);
    expect(log).toContain('space is back');
    rmSync(join(state, 'logs'), { recursive: true });
  });
});
