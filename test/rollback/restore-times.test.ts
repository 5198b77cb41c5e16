/**
 * A file a rollback put back has the point's mtime again, as far as utimes can set it (whole
 * microseconds: a fraction of one off the recorded nanoseconds). The next restore of the same point must see it
 * as unchanged; it used to plan "reset mode and mtime" for every such file, each time.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { PathGuard } from '../../src/safety/path-guard.js';
import { RollbackPoints } from '../../src/safety/rollback-points.js';
import { restorePoint } from '../../src/safety/rollback-restore.js';
import { tempDir } from '../support/tmp.js';

describe('rollback restore and file times', () => {
  it('sees a file it restored as unchanged on the next restore of the same point', async () => {
    const dir = tempDir();
    const stateDir = join(dir, 'state');
    const data = join(dir, 'data');
    mkdirSync(data);
    const files = Array.from({ length: 5 }, (_, i) => join(data, `f${i}.txt`));
    // A file written now has a time with nanoseconds, which utimes (microseconds) cannot set
    // back exactly; one whose time happens to be whole microseconds (1 in 1,000) is written again.
    for (const f of files)
      for (let i = 0; i < 50; i++) {
        writeFileSync(f, `original ${f}\n`);
        if (statSync(f, { bigint: true }).mtimeNs % 1000n !== 0n) break;
      }
    const points = new RollbackPoints({
      stateDir,
      host: 'h',
      clock: new ManualClock(Date.UTC(2026, 0, 1)),
      guard: new PathGuard({ stateDir }),
      maxPoints: 50,
      maxBytes: 1024 ** 3,
      fileTimeNow: () => Date.now() + 60_000,
    });
    const point = await points.take({
      paths: ['data'],
      baseDir: dir,
      kind: 'task',
      task: 't',
      runId: 1,
      label: '',
    });
    const recorded = statSync(files[0]!).mtimeMs;
    expect(statSync(files[0]!, { bigint: true }).mtimeNs % 1000n).not.toBe(0n);
    for (const f of files) writeFileSync(f, 'changed\n');
    const first = await restorePoint(points, point.manifest.id, { reason: 'test' });
    expect(first.restored).toHaveLength(5);
    expect(readFileSync(files[0]!, 'utf8')).toBe(`original ${files[0]}\n`);
    expect(Math.abs(statSync(files[0]!).mtimeMs - recorded)).toBeLessThan(0.001);
    const again = await restorePoint(points, point.manifest.id, { reason: 'test', dryRun: true });
    expect(again.restored).toEqual([]);
    expect(again.plan.filter((step) => step.startsWith('reset mode and mtime'))).toEqual([]);
    expect(again.unchanged).toBeGreaterThanOrEqual(5);
  });
});
