import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { configText, harness, HOUR, MIN, T0 } from '../support/engine-harness.js';

const every = (extra: string) => `  job: { action: gate, schedule: "* * * * *", ${extra} }\n`;

describe('engine: overlap policies', () => {
  it('forbid + missed: once coalesces fires while a run is going into one waiting run', async () => {
    const h = await harness(every('overlap: forbid, missed: once'));
    await h.advanceTo(T0 + 4 * MIN); // fires at 1, 2, 3, 4: the first holds, one waits
    let runs = await h.runs('job');
    expect(runs.map((r) => r.status)).toEqual(['running', 'queued']);
    h.gates.release('job');
    await h.settle();
    expect(h.gates.starts).toEqual(['job', 'job']);
    runs = await h.runs('job');
    expect(runs.map((r) => r.status)).toEqual(['success', 'running']);
  });

  it('forbid + missed: skip records each blocked fire as skipped, with the reason', async () => {
    const h = await harness(every('overlap: forbid, missed: skip'));
    await h.advanceTo(T0 + 3 * MIN);
    const runs = await h.runs('job');
    expect(runs.map((r) => r.status)).toEqual(['running', 'skipped', 'skipped']);
    expect(runs[1]!.reason).toMatch(/run #1 is still running \(overlap: forbid, missed: skip\)/);
  });

  it('queue runs every fire, one after another, up to queue_max waiting', async () => {
    const h = await harness(every('overlap: queue, queue_max: 2'));
    await h.advanceTo(T0 + 3 * MIN);
    expect((await h.runs('job')).map((r) => r.status)).toEqual(['running', 'queued', 'queued']);
    h.gates.release('job');
    await h.settle();
    h.gates.release('job');
    await h.settle();
    expect(h.gates.starts).toHaveLength(3);
    expect(h.gates.holding()).toEqual(['job']);
  });

  it('queue keeps at most queue_max (default 1) runs waiting; a fire beyond it is a recorded skip', async () => {
    // Every 2 s, each run taking 5 s: unbounded, 40 s piled up 17 waiting runs.
    const h = await harness('  job: { action: gate, schedule: "every 2s", overlap: queue }\n');
    for (let t = 0; t < 40; t += 5) {
      await h.advanceTo(T0 + (t + 5) * 1000);
      h.gates.release('job');
      await h.settle();
    }
    const runs = await h.runs('job');
    const queued = runs.filter((r) => r.status === 'queued');
    expect(queued.length).toBeLessThanOrEqual(1);
    const skipped = runs.filter((r) => r.status === 'skipped');
    expect(skipped.length).toBeGreaterThan(5);
    expect(skipped[0]!.reason).toBe('queue full: 1 run already waiting (queue_max 1)');
    expect(runs.filter((r) => r.status === 'success').length).toBe(8);
    expect((await h.ct.history({ task: 'job', limit: 100, statuses: ['skipped'] })).length).toBe(
      skipped.length,
    );
  });

  it('a manual run of a queue task whose queue is full is refused, saying why', async () => {
    const h = await harness(every('overlap: queue'));
    await h.advanceTo(T0 + 2 * MIN); // one running, one waiting
    await expect(h.ct.runNow('job', { wait: false })).rejects.toThrow(
      'task "job" cannot take another run: queue full: 1 run already waiting (queue_max 1)',
    );
  });

  it('replace cancels the running run and starts the new one', async () => {
    const h = await harness(every('overlap: replace'));
    await h.advanceTo(T0 + 2 * MIN);
    const runs = await h.runs('job');
    expect(runs.map((r) => r.status)).toEqual(['cancelled', 'running']);
    expect(runs[0]!.reason).toMatch(/replaced by the run scheduled for 2026-11-24T00:02:00.000Z/);
  });

  it('a manual run of a busy task is refused under forbid', async () => {
    const h = await harness(every('overlap: forbid'));
    await h.advanceTo(T0 + MIN);
    await expect(h.ct.runNow('job', { wait: false })).rejects.toThrow(
      /task "job" already has run #1 running \(overlap: forbid\)/,
    );
  });
});

describe('engine: runs missed while the daemon was down', () => {
  const hourly = (extra: string) =>
    `  job: { action: gate, schedule: "0 * * * *", with: { outcome: ok }, ${extra} }\n`;

  it('missed: once runs one catch-up for all the missed fires', async () => {
    const h = await harness(hourly('missed: once'), { start: T0 + 30_000 });
    await h.restart(T0 + 5 * HOUR + 30 * MIN);
    const runs = await h.runs('job');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      status: 'success',
      trigger: 'catch-up',
      scheduledFor: T0 + 5 * HOUR,
      startedAt: T0 + 5 * HOUR + 30 * MIN,
    });
    expect(runs[0]!.reason).toMatch(
      /missed 5 scheduled runs while caretaker was not running \(missed: once\)/,
    );
    await h.advanceTo(T0 + 6 * HOUR);
    expect((await h.runs('job')).map((r) => r.trigger)).toEqual(['catch-up', 'schedule']);
  });

  it('missed: skip records the skip and runs nothing', async () => {
    const h = await harness(hourly('missed: skip'), { start: T0 + 30_000 });
    await h.restart(T0 + 5 * HOUR + 30 * MIN);
    const runs = await h.runs('job');
    expect(runs.map((r) => r.status)).toEqual(['skipped']);
    expect(runs[0]!.reason).toMatch(/missed 5 scheduled runs .* \(missed: skip\)/);
    expect(h.gates.starts).toEqual([]);
  });

  it('missed: all runs each missed fire, up to missed_max, and says what it dropped', async () => {
    const h = await harness(hourly('missed: all, missed_max: 3'), { start: T0 + 30_000 });
    await h.restart(T0 + 5 * HOUR + 30 * MIN);
    const runs = await h.runs('job');
    expect(
      runs.map((r) => [r.status, r.scheduledFor === null ? null : (r.scheduledFor - T0) / HOUR]),
    ).toEqual([
      ['skipped', expect.any(Number)],
      ['success', 3],
      ['success', 4],
      ['success', 5],
    ]);
    expect(runs[0]!.reason).toMatch(/skipped 2 of 5 scheduled runs missed/);
    // No starting_deadline is set: only the cap dropped them, and the reason says just that.
    expect(runs[0]!.reason).toBe(
      'skipped 2 of 5 scheduled runs missed while caretaker was not running (missed_max 3)',
    );
  });

  it('missed: all with a starting_deadline names both the cap and the deadline when both dropped fires', async () => {
    const h = await harness(hourly('missed: all, missed_max: 3, starting_deadline: 90m'), {
      start: T0 + 30_000,
    });
    await h.restart(T0 + 5 * HOUR + 30 * MIN);
    const runs = await h.runs('job');
    expect(runs.map((r) => r.status)).toEqual(['skipped', 'success', 'success']); // 04:00 and 05:00
    expect(runs[0]!.reason).toBe(
      'skipped 3 of 5 scheduled runs missed while caretaker was not running (missed_max 3, starting_deadline 1h 30m)',
    );
  });

  it('a missed run older than starting_deadline is skipped, not started', async () => {
    const h = await harness(hourly('missed: once, starting_deadline: 10m'), { start: T0 + 30_000 });
    await h.restart(T0 + 5 * HOUR + 30 * MIN);
    const runs = await h.runs('job');
    expect(runs.map((r) => r.status)).toEqual(['skipped']);
    expect(runs[0]!.reason).toMatch(/older than starting_deadline \(10m\)/);
  });

  it('a queued run that waits past starting_deadline is skipped', async () => {
    const tasks = `  long: { action: gate, schedule: "0 1 * * *" }\n  short: { action: gate, schedule: "0 1 * * *", starting_deadline: 5m, priority: low }\n`;
    const h = await harness(tasks, { top: 'concurrency: 1' });
    await h.advanceTo(T0 + HOUR + 6 * MIN);
    h.gates.release('long');
    await h.settle();
    const [short] = await h.runs('short');
    // Decided at the deadline, while long still ran, not when long let go of the slot.
    expect(short).toMatchObject({ status: 'skipped', finishedAt: T0 + HOUR + 5 * MIN + 1 });
    expect(short!.reason).toMatch(
      /could not start within starting_deadline \(5m\); still waiting 5m after it was due/,
    );
  });

  it('a starting_deadline skip and its missed alert come at the deadline, behind a run that holds the slot', async () => {
    const tasks = `  long: { action: gate, schedule: "0 1 * * *" }\n  short: { action: gate, schedule: "0 1 * * *", starting_deadline: 3s, priority: low }\n`;
    const h = await harness(tasks, { top: 'concurrency: 1' });
    const missed: { task: string; at: number }[] = [];
    h.ct.on('run:missed', (r) => missed.push({ task: r.task, at: h.clock.now() }));
    await h.advanceTo(T0 + HOUR + 2 * HOUR); // long holds the only slot for 2 h
    expect(h.gates.holding()).toEqual(['long']);
    expect(missed).toEqual([{ task: 'short', at: T0 + HOUR + 3_001 }]);
    const [short] = await h.runs('short');
    expect(short).toMatchObject({ status: 'skipped', finishedAt: T0 + HOUR + 3_001 });
  });
});

describe('engine: restarts and reloads are idempotent', () => {
  it('a restart neither repeats a fire that ran nor loses a queued run', async () => {
    const tasks = `  a: { action: gate, schedule: "*/10 * * * *" }\n  b: { action: gate, schedule: "*/10 * * * *", priority: low }\n`;
    const h = await harness(tasks, { top: 'concurrency: 1' });
    await h.advanceTo(T0 + 10 * MIN);
    expect(h.gates.holding()).toEqual(['a']);
    h.gates.release('a');
    await h.settle();
    expect(h.gates.holding()).toEqual(['b']);
    // Stop while b runs (it is interrupted) and a new fire of a waits in the queue.
    await h.advanceTo(T0 + 20 * MIN);
    const before = await h.runs();
    expect(before.map((r) => `${r.task}:${r.status}`)).toEqual([
      'a:success',
      'b:running',
      'a:queued',
      'b:queued',
    ]);
    await h.restart(T0 + 20 * MIN + 30_000);
    const after = await h.runs();
    // The queued rows are the same rows (same ids), now started or waiting; nothing was added.
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect(after.map((r) => `${r.task}:${r.status}`)).toEqual([
      'a:success',
      'b:interrupted',
      'a:running',
      'b:queued',
    ]);
  });

  it('marks runs left running by a dead process as interrupted at the next start', async () => {
    const h = await harness(`  job: { action: gate, schedule: "0 * * * *" }\n`, { autostart: false });
    const deadPid = 2 ** 22 + 12345; // above pid_max: no such process
    const left = await (
      await h.store()
    ).insertRun({
      task: 'job',
      host: 'test-host',
      trigger: 'schedule',
      scheduledFor: T0,
      notBefore: T0,
      queuedAt: T0,
      startedAt: T0,
      status: 'running',
      attempt: 1,
      dryRun: false,
      pid: deadPid,
    });
    await h.ct.start();
    await h.settle();
    const [after] = await h.runs('job');
    expect(after).toMatchObject({ id: left.id, status: 'interrupted' });
    expect(after!.reason).toMatch(
      new RegExp(`caretaker stopped while this run was in progress \\(process ${deadPid} is gone\\)`),
    );
  });

  it('reloading the same schedule does not duplicate a pending fire; a new task starts from now', async () => {
    const tasks = `  job: { action: gate, schedule: "0 * * * *", with: { outcome: ok } }\n`;
    const h = await harness(tasks, { start: T0 + 30 * MIN });
    const dir = h.dir;
    const { writeFileSync } = await import('node:fs');
    const text = configText(
      `${tasks}  added: { action: gate, schedule: "0 * * * *", with: { outcome: ok } }\n`,
    );
    writeFileSync(`${dir}/caretaker.yaml`, text);
    // Reload with the new config, twice (the daemon does this on SIGHUP).
    await h.ct.reload({ configText: text });
    await h.ct.reload({ configText: text });
    await h.advanceTo(T0 + HOUR);
    expect((await h.runs()).map((r) => r.task).sort()).toEqual(['added', 'job']);
  });
});

describe('engine: dry runs', () => {
  it('records a dry run without counting it as the task’s last result', async () => {
    const h = await harness(`  job: { action: shell, with: { command: "touch made-by-job" } }\n`);
    const run = await h.ct.runNow('job', { dryRun: true });
    expect(run).toMatchObject({ status: 'success', dryRun: true });
    expect(run.result?.plan?.[0]).toMatch(/run `touch made-by-job`/);
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${h.dir}/made-by-job`)).toBe(false);
    const [summary] = await h.ct.tasks();
    expect(summary!.lastStatus).toBeNull();
  });
});

describe('engine: a run left by a dead CLI process', () => {
  it('is marked interrupted when the task is run again, and does not block it', async () => {
    const h = await harness(`  job: { action: gate, with: { outcome: ok } }\n`, { autostart: false });
    const dead = await (
      await h.store()
    ).insertRun({
      task: 'job',
      host: 'test-host',
      trigger: 'manual',
      scheduledFor: null,
      notBefore: T0,
      queuedAt: T0,
      startedAt: T0,
      status: 'running',
      attempt: 1,
      dryRun: false,
      pid: 2 ** 22 + 4242, // above pid_max: no such process
    });
    const run = await h.ct.runNow('job');
    expect(run.status).toBe('success');
    const left = await (await h.store()).getRun(dead.id);
    expect(left).toMatchObject({ status: 'interrupted' });
    expect(left!.reason).toMatch(/process \d+ is gone\); marked interrupted when the task was run again/);
  });
});

describe('engine: sequential manual runs', () => {
  it('lets a caller run a task again as soon as it hears the previous run finished', async () => {
    const h = await harness(`  job: { action: gate, with: { outcome: ok } }\n`);
    const again: Promise<unknown>[] = [];
    h.ct.on('run:finished', (run) => {
      if (run.task === 'job' && again.length < 3) again.push(h.ct.runNow('job', { wait: false }));
    });
    await h.ct.runNow('job');
    await Promise.all(again);
    await h.settle();
    expect(h.gates.starts).toHaveLength(4);
  });
});

describe('engine: cooldown', () => {
  it('fires during a cooldown fold into one run, logged once with how many', async () => {
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const h = await harness(
      '  job: { action: gate, schedule: "every 10s", cooldown: 1m, with: { outcome: ok } }\n',
      {
        logger,
      },
    );
    await h.advanceTo(T0 + 10_000); // the first run starts; the cooldown runs to 00:01:10
    await h.advanceTo(T0 + 80_000);
    const runs = await h.runs('job');
    expect(runs.map((r) => [r.status, (r.scheduledFor! - T0) / 1000])).toEqual([
      ['success', 10],
      ['success', 70],
    ]);
    const folded = lines.filter((l) => /during its cooldown/.test(l.msg));
    expect(folded.map((l) => l.msg)).toEqual([
      'job: 5 scheduled runs during its cooldown (1m) folded into the run for 2026-11-24T00:01:10.000Z',
    ]);
    expect(lines.filter((l) => /coalesced/.test(l.msg))).toEqual([]);
  });
});
