/**
 * rotate-logs under the engine on a manual clock: scheduled runs follow `frequency` through the
 * state file; a manual run (what `caretaker run-task` asks for) forces the rotation.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { harness, HOUR, T0 } from '../support/engine-harness.js';
import { readTree } from '../support/rotate.js';
import { waitUntil } from '../support/tmp.js';

describe('rotate-logs scheduled by the engine', () => {
  it('rotates once a day on schedule, and at once when run by hand', async () => {
    const h = await harness(
      `  rotate:\n    action: rotate-logs\n    schedule: "0 2 * * *"\n    with: { paths: logs/*.log, frequency: daily, rotate: 5 }\n`,
    );
    const logs = join(h.dir, 'logs');
    mkdirSync(logs);
    writeFileSync(join(logs, 'app.log'), 'day 1\n');
    const finishedRun = async (n: number) => {
      await waitUntil(() => h.finished.length >= n, `run ${n} to finish`);
      return h.finished[n - 1]!;
    };

    await h.advanceTo(T0 + 2 * HOUR);
    const first = await finishedRun(1);
    expect(first.trigger).toBe('schedule');
    expect(first.result?.details?.rotated).toEqual([]); // first seen: recorded, like logrotate

    await h.advanceTo(T0 + 26 * HOUR);
    const second = await finishedRun(2);
    expect(second.result?.details?.rotated).toEqual([join(logs, 'app.log')]);

    writeFileSync(join(logs, 'app.log'), 'day 2, rotated by hand\n');
    await h.ct.runNow('rotate');
    const manual = await finishedRun(3);
    expect(manual.trigger).toBe('manual');
    expect(manual.result?.details?.rotated).toEqual([join(logs, 'app.log')]);
    expect(readTree(logs)).toEqual({ 'app.log.1': 'day 2, rotated by hand\n', 'app.log.2': 'day 1\n' });
    await h.stop();
  });
});
