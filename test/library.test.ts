/** Embedding caretaker in a Node service through the public API only. */
import { describe, expect, it } from 'vitest';
import { createCaretaker, defineAction, ManualClock, type RunRecord } from '../src/index.js';
import { z } from 'zod';
import { tempDir } from './support/tmp.js';

describe('library: createCaretaker', () => {
  it('schedules, runs and reports through start/runNow/tasks/history/on/stop', async () => {
    const dir = tempDir('ct-lib-');
    const clock = new ManualClock(Date.UTC(2026, 10, 24, 0, 0, 30));
    const calls: string[] = [];
    const flush = defineAction({
      name: 'flush-cache',
      description: 'the service’s own cache flush',
      schema: z.strictObject({ region: z.string() }),
      async run(ctx, o) {
        calls.push(`${o.region}${ctx.dryRun ? ' (dry)' : ''}`);
        return { ok: true, summary: `flushed ${o.region}`, bytesFreed: 1024 };
      },
    });
    const caretaker = createCaretaker({
      configText:
        'version: 1\ntasks:\n  flush: { action: flush-cache, schedule: "*/15 * * * *", with: { region: eu } }\n',
      baseDir: dir,
      clock,
      actions: [flush],
    });
    const events: RunRecord[] = [];
    caretaker.on('run:finished', (r) => events.push(r));
    await caretaker.start();
    await clock.advanceToAsync(Date.UTC(2026, 10, 24, 0, 30));
    expect(calls).toEqual(['eu', 'eu']);
    expect(events.map((e) => e.status)).toEqual(['success', 'success']);

    const dry = await caretaker.runNow('flush', { dryRun: true });
    expect(dry).toMatchObject({
      status: 'success',
      dryRun: true,
      result: { summary: 'flushed eu', bytesFreed: 1024 },
    });
    const [task] = await caretaker.tasks();
    expect(task).toMatchObject({
      id: 'flush',
      lastStatus: 'success',
      nextRunAt: Date.UTC(2026, 10, 24, 0, 45),
    });
    expect((await caretaker.history({ task: 'flush' })).length).toBe(3);
    const metrics = await caretaker.metrics(7);
    expect(metrics.tasks[0]).toMatchObject({ task: 'flush', runs: 2, successRate: 1 });
    await caretaker.stop();
    expect(() =>
      createCaretaker({ configText: 'version: 1\ntasks: { x: { action: nope } }\n', baseDir: dir }),
    ).toThrow(/unknown action "nope"/);
  });
});
