/**
 * scan-logs across a copytruncate rotation, with its default options: the lines written between
 * the last scan and the truncation live only in the copy, and must be counted from there — or,
 * when no copy can be found, the run says loudly that they were not read.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateLogsAction } from '../../src/actions/rotate-logs.js';
import { scanLogsAction } from '../../src/actions/scan-logs.js';
import { ManualClock } from '../../src/engine/clock.js';
import { runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

/** `n` lines, every tenth of them an ERROR. */
function lines(tag: string, n: number): string {
  let s = '';
  for (let i = 1; i <= n; i++) s += `2026-11-24T11:00:00Z ${i % 10 === 0 ? 'ERROR' : 'INFO'} ${tag} ${i}\n`;
  return s;
}

function setup() {
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  const log = join(dir, 'logs', 'x.log');
  writeFileSync(log, lines('start', 20)); // 2 errors
  const scan = async () => {
    const r = (
      await runAction(
        scanLogsAction,
        { paths: ['logs/x.log'], patterns: { errors: 'ERROR' }, critical: {} },
        { baseDir: dir, clock: new ManualClock(NOW) },
      )
    ).result;
    return { r, errors: (r.details!.counts as { errors: number }).errors };
  };
  return { dir, log, scan };
}

describe('scan-logs across copytruncate, by default', () => {
  it('reads what was written before the truncation from the copy (x.log.1), each line once', async () => {
    const { log, scan } = setup();
    expect((await scan()).errors).toBe(2);
    appendFileSync(log, lines('before', 100)); // 10 errors, not scanned yet
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    appendFileSync(log, lines('after', 50)); // 5 errors
    const { r, errors } = await scan();
    expect(errors).toBe(15);
    expect(r.warnings).toBeUndefined();
    const files = r.details!.files as { path: string; reason: string; counts: { errors: number } }[];
    expect(files.map((f) => [f.path, f.reason, f.counts.errors])).toEqual([
      [log, 'replaced', 5],
      [`${log}.1`, 'adopted', 10],
    ]);
    expect((await scan()).errors).toBe(0); // nothing is read twice
    appendFileSync(log, lines('later', 10));
    expect((await scan()).errors).toBe(1);
  });

  it('finds a dated or compressed copy too (dateext, compress without delaycompress)', async () => {
    for (const name of ['x.log-20261124', 'x.log.1.gz', 'x.log-20261124.gz']) {
      const { log, scan } = setup();
      await scan();
      appendFileSync(log, lines('before', 100));
      // An older generation with other content is not mistaken for the copy.
      writeFileSync(`${log}.2`, lines('older', 300));
      const copy = join(log, '..', name.replace(/\.gz$/, ''));
      copyFileSync(log, copy);
      if (name.endsWith('.gz')) execFileSync('gzip', [copy]);
      truncateSync(log, 0);
      appendFileSync(log, lines('after', 50));
      const { r, errors } = await scan();
      expect(errors, name).toBe(15);
      const files = r.details!.files as { path: string; reason: string }[];
      expect(
        files.map((f) => [f.path.split('/').pop(), f.reason]),
        name,
      ).toEqual([
        ['x.log', 'replaced'],
        [name, 'adopted'],
      ]);
    }
  });

  it('says loudly that lines were not read when no copy can be found', async () => {
    const { log, scan } = setup();
    await scan();
    appendFileSync(log, lines('before', 100));
    truncateSync(log, 0); // rotate 0: the copy is gone already
    appendFileSync(log, lines('after', 50));
    const { r, errors } = await scan();
    expect(errors).toBe(5);
    expect(r.warnings).toEqual([
      `${log}: truncated since the last scan, which had read ${Buffer.byteLength(lines('start', 20))} bytes of it, and no rotated copy starting with those bytes was found (x.log.1, x.log-DATE, .gz): lines written after that scan and before the truncation were not read`,
    ]);
    expect(r.details!.truncatedWithoutCopy).toEqual([log]);
  });

  it("loses nothing behind caretaker's own rotate-logs with copytruncate", async () => {
    const { dir, log, scan } = setup();
    await scan();
    appendFileSync(log, lines('before', 100));
    const rot = (
      await runAction(
        rotateLogsAction,
        { paths: ['logs/x.log'], copytruncate: true, rotate: 3 },
        { baseDir: dir, clock: new ManualClock(NOW), trigger: 'manual' },
      )
    ).result;
    expect(rot.ok).toBe(true);
    appendFileSync(log, lines('after', 50));
    const { r, errors } = await scan();
    expect(errors).toBe(15);
    expect(r.warnings).toBeUndefined();
  });
});
