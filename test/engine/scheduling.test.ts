import { describe, expect, it } from 'vitest';
import { jitterOffset } from '../../src/core/due-time.js';
import { MAX_TIMER_WAIT_MS } from '../../src/engine/engine.js';
import { harness, HOUR, MIN, T0 } from '../support/engine-harness.js';

describe('engine: the timer', () => {
  it('arms one timer for the next due instant, capped, and none while nothing is due', async () => {
    const h = await harness(`  hourly: { action: gate, schedule: "0 * * * *", with: { outcome: ok } }\n`, {
      start: T0 + 30_000,
    });
    // One timer only: the next due instant (01:00) is beyond the cap, so it is the cap.
    expect(h.clock.pending()).toEqual([T0 + 30_000 + MAX_TIMER_WAIT_MS]);
    await h.advance(MAX_TIMER_WAIT_MS);
    expect(h.clock.pending()).toEqual([T0 + 30_000 + 2 * MAX_TIMER_WAIT_MS]);
    expect(h.gates.starts).toEqual([]);
    await h.advanceTo(T0 + HOUR - 1);
    expect(h.gates.starts).toEqual([]);
    await h.advanceTo(T0 + HOUR);
    expect(h.gates.starts).toEqual(['hourly']);
    const [run] = await h.runs('hourly');
    expect(run).toMatchObject({
      status: 'success',
      scheduledFor: T0 + HOUR,
      startedAt: T0 + HOUR,
      trigger: 'schedule',
    });
  });

  it('starts a run with jitter at the same offset after every fire and every restart', async () => {
    const tasks = `  spread: { action: gate, schedule: "0 * * * *", jitter: 10m, with: { outcome: ok } }\n`;
    const h = await harness(tasks, { start: T0 + 1000 });
    const offset = jitterOffset('spread', 'test-host', 10 * MIN);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(10 * MIN);
    expect(jitterOffset('spread', 'other-host', 10 * MIN)).not.toBe(offset);
    await h.advanceTo(T0 + HOUR + offset - 1);
    expect(h.gates.starts).toEqual([]);
    await h.advanceTo(T0 + HOUR + offset);
    await h.restart(T0 + HOUR + 20 * MIN);
    await h.advanceTo(T0 + 2 * HOUR + offset);
    const runs = await h.runs('spread');
    expect(runs.map((r) => r.startedAt! - r.scheduledFor!)).toEqual([offset, offset]);
  });

  it('keeps a cooldown between two starts', async () => {
    const h = await harness(
      `  busy: { action: gate, schedule: "* * * * *", cooldown: 5m, with: { outcome: ok } }\n`,
    );
    await h.advanceTo(T0 + 12 * MIN);
    const starts = (await h.runs('busy'))
      .filter((r) => r.startedAt !== null)
      .map((r) => (r.startedAt! - T0) / MIN);
    expect(starts).toEqual([1, 6, 11]);
  });

  it('starts only inside the window and pushes earlier fires to its start', async () => {
    const h = await harness(
      `  nightly: { action: gate, schedule: "30 * * * *", window: { hours: "2-3", days: "mon-fri" }, with: { outcome: ok } }\n`,
      { start: T0 + 1000 },
    );
    await h.advanceTo(T0 + 2 * HOUR - 1);
    expect(h.gates.starts).toEqual([]);
    await h.advanceTo(T0 + 4 * HOUR);
    const runs = await h.runs('nightly');
    // 00:30 and 01:30 fall before the window: they wait for 02:00 and coalesce into one run;
    // 02:30 and 03:30 are inside it.
    expect(runs.map((r) => (r.startedAt! - T0) / MIN)).toEqual([120, 150, 210]);
  });
});

describe('engine: concurrency and priority', () => {
  it('never runs more than `concurrency` tasks at once', async () => {
    const tasks = ['a', 'b', 'c', 'd', 'e']
      .map((id) => `  ${id}: { action: gate, schedule: "* * * * *" }\n`)
      .join('');
    const h = await harness(tasks, { top: 'concurrency: 2' });
    await h.advanceTo(T0 + MIN);
    expect(h.gates.holding()).toHaveLength(2);
    expect(h.ct.engineStatus().queued).toHaveLength(3);
    h.gates.release(h.gates.holding()[0]!);
    await h.settle();
    expect(h.gates.holding()).toHaveLength(2);
    expect(h.gates.starts).toHaveLength(3);
  });

  it('starts the highest priority score first when saturated', async () => {
    const tasks = `
  docs: { action: gate, schedule: "0 3 * * *", priority: low, category: documentation }
  security-scan: { action: gate, schedule: "0 3 * * *", priority: critical, category: security }
  cache: { action: gate, schedule: "0 3 * * *", priority: medium, category: cache, impact: { performance: 80 } }
`;
    const h = await harness(tasks, { top: 'concurrency: 1' });
    await h.advanceTo(T0 + 3 * HOUR);
    expect(h.gates.starts).toEqual(['security-scan']);
    h.gates.release('security-scan');
    await h.settle();
    h.gates.release('cache');
    await h.settle();
    expect(h.gates.starts).toEqual(['security-scan', 'cache', 'docs']);
    const docs = await h.ct.priority('docs');
    const sec = await h.ct.priority('security-scan');
    expect(sec.score).toBeGreaterThan(docs.score);
  });

  it('caps a concurrency group host-wide while other work goes on', async () => {
    const tasks = `
  vacuum: { action: gate, schedule: "0 1 * * *", group: db }
  reindex: { action: gate, schedule: "0 1 * * *", group: db }
  rotate: { action: gate, schedule: "0 1 * * *" }
`;
    const h = await harness(tasks, { top: 'concurrency: 3\ngroups: { db: 1 }' });
    await h.advanceTo(T0 + HOUR);
    expect(h.gates.holding().sort()).toEqual(['rotate', 'vacuum']);
    h.gates.release('vacuum');
    await h.settle();
    expect(h.gates.holding().sort()).toEqual(['reindex', 'rotate']);
  });
});

describe('engine: depends_on', () => {
  const tasks = `
  backup: { action: gate, schedule: "0 2 * * *" }
  rotate: { action: gate, schedule: "0 2 * * *", depends_on: [backup] }
  report: { action: gate, schedule: "0 6 * * *", depends_on: [backup], with: { outcome: ok } }
`;

  it('runs a task after its dependency of the same cycle succeeds', async () => {
    const h = await harness(tasks);
    await h.advanceTo(T0 + 2 * HOUR);
    expect(h.gates.starts).toEqual(['backup']);
    h.gates.release('backup', true);
    await h.settle();
    expect(h.gates.starts).toEqual(['backup', 'rotate']);
  });

  it('skips a task whose dependency failed, with the reason', async () => {
    const h = await harness(tasks);
    await h.advanceTo(T0 + 2 * HOUR);
    h.gates.release('backup', false);
    await h.settle();
    const [rotate] = await h.runs('rotate');
    expect(rotate).toMatchObject({ status: 'skipped', startedAt: null });
    expect(rotate!.reason).toMatch(/dependency "backup" ended failed in this cycle \(run #\d+\)/);
    // A dependency that does not fire in the task's cycle places no condition on it.
    await h.advanceTo(T0 + 6 * HOUR);
    expect((await h.runs('report')).map((r) => r.status)).toEqual(['success']);
  });
});

describe('engine: retries', () => {
  it('retries with exponential backoff and jitter, then gives up', async () => {
    const h = await harness(
      `  flaky: { action: gate, schedule: "0 * * * *", retries: { count: 2, backoff: 30s }, with: { outcome: fail } }\n`,
    );
    await h.advanceTo(T0 + HOUR);
    let runs = await h.runs('flaky');
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'failed'],
      [2, 'queued'],
    ]);
    const firstDelay = runs[1]!.notBefore! - T0 - HOUR;
    expect(firstDelay).toBeGreaterThanOrEqual(24_000);
    expect(firstDelay).toBeLessThanOrEqual(36_000);
    expect(runs[1]!.reason).toMatch(/retry 1 of 2 after failed/);
    await h.advanceTo(T0 + HOUR + firstDelay - 1);
    expect(h.gates.starts).toHaveLength(1);
    await h.advanceTo(T0 + HOUR + firstDelay);
    runs = await h.runs('flaky');
    const secondDelay = runs[2]!.notBefore! - runs[1]!.finishedAt!;
    expect(secondDelay).toBeGreaterThanOrEqual(48_000);
    expect(secondDelay).toBeLessThanOrEqual(72_000);
    await h.advance(secondDelay);
    runs = await h.runs('flaky');
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect(runs.every((r) => r.scheduledFor === T0 + HOUR)).toBe(true);
    await h.advance(10 * MIN);
    expect(await h.runs('flaky')).toHaveLength(3);
  });
});

describe('engine: a burst of runs due at one instant', () => {
  it('calls every action of the burst before any run finishes, so quick runs do not delay the rest', async () => {
    const tasks = Array.from(
      { length: 20 },
      (_, i) => `  t${i}: { action: gate, schedule: "* * * * *", with: { outcome: ok } }\n`,
    ).join('');
    const h = await harness(tasks, { top: 'concurrency: 50\n' });
    // How many actions had been called when each run's finish was told.
    const startedAtFinish: number[] = [];
    h.ct.on('run:finished', () => startedAtFinish.push(h.gates.starts.length));
    await h.advanceTo(T0 + MIN);
    expect(h.gates.starts).toHaveLength(20);
    expect(startedAtFinish).toHaveLength(20);
    // Were the starts recorded one by one with the actions launched in between, the first quick
    // run would finish (between the awaits of the next starts) before the second was called.
    expect(startedAtFinish[0]).toBe(20);
    const runs = await h.runs();
    expect(runs.every((r) => r.status === 'success' && r.startedAt === T0 + MIN)).toBe(true);
  });
});
