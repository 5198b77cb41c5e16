/**
 * Pausing a task, on the injected clock: every slot while paused is a skipped run with who and
 * why, nothing starts, the pause outlives restarts and reloads, and resuming runs the next slot
 * without making up the paused ones.
 */
import { describe, expect, it } from 'vitest';
import { configText, harness, MIN, T0 } from '../support/engine-harness.js';

const JOB = '  job: { action: gate, schedule: "* * * * *", with: { outcome: ok } }\n';

describe('engine: a paused task', () => {
  it('records each slot as skipped ("paused by WHO: REASON") and starts nothing; resuming runs the next slot only', async () => {
    const h = await harness(JOB);
    const out = await h.ct.pauseTask('job', { by: 'alice', reason: 'disk swap' });
    expect(out).toMatchObject({ paused: true, record: { task: 'job', by: 'alice', reason: 'disk swap' } });
    await h.advanceTo(T0 + 3 * MIN);
    let runs = await h.runs('job');
    expect(runs.map((r) => [r.status, r.scheduledFor])).toEqual([
      ['skipped', T0 + MIN],
      ['skipped', T0 + 2 * MIN],
      ['skipped', T0 + 3 * MIN],
    ]);
    for (const r of runs) expect(r.reason).toBe('paused by alice: disk swap');
    expect(h.gates.starts).toEqual([]);

    expect(await h.ct.resumeTask('job')).toMatchObject({ resumed: true, record: { by: 'alice' } });
    await h.settle();
    // No catch-up: the paused slots were each recorded, none is owed.
    expect(h.gates.starts).toEqual([]);
    await h.advanceTo(T0 + 4 * MIN);
    runs = await h.runs('job');
    expect(runs.map((r) => r.status)).toEqual(['skipped', 'skipped', 'skipped', 'success']);
    expect(runs[3]!.scheduledFor).toBe(T0 + 4 * MIN);
    expect(h.gates.starts).toEqual(['job']);
  });

  it('without a reason, the skip says who only', async () => {
    const h = await harness(JOB);
    await h.ct.pauseTask('job', { by: 'bob' });
    await h.advanceTo(T0 + MIN);
    expect((await h.runs('job'))[0]!.reason).toBe('paused by bob');
  });

  it('stays paused across a restart; slots missed while down are recorded as paused, not caught up', async () => {
    const h = await harness(JOB);
    await h.ct.pauseTask('job', { by: 'alice', reason: 'migration' });
    await h.advanceTo(T0 + MIN);
    // Down for 10 minutes (missed: once would catch up one run for them), then started again.
    await h.restart(T0 + 11 * MIN);
    const runs = await h.runs('job');
    expect(runs.every((r) => r.status === 'skipped' && r.reason === 'paused by alice: migration')).toBe(true);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.some((r) => r.trigger === 'catch-up')).toBe(false);
    await h.advanceTo(T0 + 12 * MIN);
    expect((await h.runs('job')).at(-1)).toMatchObject({ status: 'skipped', scheduledFor: T0 + 12 * MIN });
    expect(h.gates.starts).toEqual([]);
    expect((await h.ct.tasks())[0]!.paused).toMatchObject({ by: 'alice', reason: 'migration' });
  });

  it('stays paused across a reload, and a reload picks up a pause another process wrote to the store', async () => {
    const text = configText(
      JOB + '  other: { action: gate, schedule: "* * * * *", with: { outcome: ok } }\n',
    );
    const h = await harness(
      JOB + '  other: { action: gate, schedule: "* * * * *", with: { outcome: ok } }\n',
    );
    await h.ct.pauseTask('job', { by: 'alice', reason: 'r' });
    await h.ct.reload({ configText: text });
    await h.advanceTo(T0 + MIN);
    expect(h.gates.starts).toEqual(['other']);
    // A CLI without a daemon writes the store directly; the daemon reads it at its next reload.
    const store = await h.store();
    await store.pauseTask('other', { by: 'carol', reason: 'from the CLI', at: h.clock.now() });
    await h.ct.reload({ configText: text });
    await h.advanceTo(T0 + 2 * MIN);
    expect(h.gates.starts).toEqual(['other']);
    const other = await h.runs('other');
    expect(other.at(-1)).toMatchObject({ status: 'skipped', reason: 'paused by carol: from the CLI' });
  });

  it('a run waiting to start when the task is paused ends as skipped; one already running goes on', async () => {
    const h = await harness(
      '  hold: { action: gate, schedule: "* * * * *" }\n' +
        '  job: { action: gate, schedule: "* * * * *", with: { outcome: ok } }\n',
      { top: 'concurrency: 1' },
    );
    await h.advanceTo(T0 + MIN); // hold runs (held), job waits for the slot
    const [holdRun] = await h.runs('hold');
    expect(holdRun!.status).toBe('running');
    expect((await h.runs('job')).map((r) => r.status)).toEqual(['queued']);
    await h.ct.pauseTask('job', { by: 'alice', reason: 'stop it' });
    await h.ct.pauseTask('hold', { by: 'alice', reason: 'stop it' });
    await h.settle();
    expect(await h.runs('job')).toMatchObject([{ status: 'skipped', reason: 'paused by alice: stop it' }]);
    expect((await h.runs('hold'))[0]!.status).toBe('running');
    h.gates.release('hold');
    await h.settle();
    expect((await h.runs('hold'))[0]!.status).toBe('success');
  });

  it('run-task of a paused task is refused (exit code 2) unless forced; a dry run is allowed', async () => {
    const h = await harness('  job: { action: gate, with: { outcome: ok } }\n');
    await h.ct.pauseTask('job', { by: 'alice', reason: 'disk swap' });
    const refused = await h.ct.runNow('job').catch((e: unknown) => e as Error & { exitCode: number });
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error & { exitCode: number }).exitCode).toBe(2);
    expect((refused as Error).message).toMatch(
      /^task job is paused \(by alice since 2026-11-24T00:00:00Z: disk swap\); use --force to run it anyway, or caretaker resume job$/,
    );
    expect(await h.runs('job')).toEqual([]);
    expect((await h.ct.runNow('job', { force: true })).status).toBe('success');
    expect((await h.ct.runNow('job', { dryRun: true })).dryRun).toBe(true);
  });

  it('pausing twice keeps the first pause; resuming a task not paused changes nothing; unknown ids are refused', async () => {
    const h = await harness(JOB);
    await h.ct.pauseTask('job', { by: 'alice', reason: 'first' });
    const again = await h.ct.pauseTask('job', { by: 'bob', reason: 'second' });
    expect(again).toMatchObject({ paused: false, record: { by: 'alice', reason: 'first' } });
    expect(await h.ct.resumeTask('job')).toMatchObject({ resumed: true });
    expect(await h.ct.resumeTask('job')).toEqual({ resumed: false, record: null });
    await expect(h.ct.pauseTask('jobb')).rejects.toThrow('unknown task "jobb" (did you mean "job"?)');
    await expect(h.ct.resumeTask('nope')).rejects.toMatchObject({ exitCode: 2 });
    expect(await h.ct.pauses()).toEqual([]);
  });

  it('a reason is kept on one line, and one too long is refused', async () => {
    const h = await harness(JOB);
    await h.ct.pauseTask('job', { by: 'a', reason: 'line one\n  line two\t' });
    expect((await h.ct.pauses())[0]!.reason).toBe('line one line two');
    await h.ct.resumeTask('job');
    await expect(h.ct.pauseTask('job', { reason: 'x'.repeat(501) })).rejects.toMatchObject({ exitCode: 2 });
  });
});
