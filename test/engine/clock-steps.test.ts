/**
 * Wall-clock steps (an operator's `date -s`, NTP): a step back re-plans every task's next run
 * instead of stopping them for the length of the step, and durations are measured on the
 * monotonic clock whichever way the wall clock moves.
 */
import { describe, expect, it } from 'vitest';
import { harness, HOUR, MIN, T0 } from '../support/engine-harness.js';

describe('engine: wall-clock steps', () => {
  it('a step back of 1 h re-plans every task: per-second and minutely tasks keep running', async () => {
    const tasks =
      '  secs: { action: gate, schedule: "every 10s", with: { outcome: ok } }\n' +
      '  mins: { action: gate, schedule: "* * * * *", with: { outcome: ok } }\n';
    const h = await harness(tasks);
    await h.advanceTo(T0 + HOUR);
    const before = { secs: (await h.runs('secs')).length, mins: (await h.runs('mins')).length };
    expect(before.mins).toBe(60);

    h.clock.stepWall(-HOUR);
    await h.advance(10 * MIN);
    const secs = (await h.runs('secs')).length - before.secs;
    const mins = (await h.runs('mins')).length - before.mins;
    // Ten minutes after the step: about 60 runs every 10 s and about 10 minutely ones, not 0.
    expect(secs).toBeGreaterThanOrEqual(55);
    expect(mins).toBeGreaterThanOrEqual(9);
    const next = h.ct.engineStatus().upcoming.find((u) => u.task === 'mins')!;
    expect(next.dueAt - h.clock.now()).toBeLessThanOrEqual(MIN);
  });

  it('a step back does not run again the fire that ran last (a daily task stays daily)', async () => {
    const h = await harness('  daily: { action: gate, schedule: "0 2 * * *", with: { outcome: ok } }\n');
    await h.advanceTo(T0 + 2 * HOUR + 30 * MIN); // ran at 02:00
    h.clock.stepWall(-HOUR); // 01:30 again
    await h.advance(2 * HOUR);
    expect((await h.runs('daily')).map((r) => r.scheduledFor)).toEqual([T0 + 2 * HOUR]);
  });

  it('a run across a step forward of a day is stored with its real duration', async () => {
    const h = await harness('  job: { action: gate, schedule: "0 1 * * *" }\n');
    await h.advanceTo(T0 + HOUR);
    expect(h.gates.holding()).toEqual(['job']);
    await h.advance(3_000);
    h.clock.stepWall(24 * HOUR);
    await h.advance(3_000);
    h.gates.release('job');
    await h.settle();
    const [run] = await h.runs('job');
    expect(run).toMatchObject({ status: 'success', durationMs: 6_000 });
  });

  it('a run across a step back is stored with its real duration, never a negative one', async () => {
    const h = await harness('  job: { action: gate, schedule: "0 1 * * *" }\n');
    await h.advanceTo(T0 + HOUR);
    await h.advance(2_000);
    h.clock.stepWall(-HOUR);
    await h.advance(4_000);
    h.gates.release('job');
    await h.settle();
    const [run] = await h.runs('job');
    expect(run).toMatchObject({ status: 'success', durationMs: 6_000 });
  });
});
