/**
 * `caretaker pause` against a real daemon: the CLI goes through the daemon's API, the daemon
 * holds the task back at once, every slot while paused is in the history as skipped with who
 * and why, and the pause outlives a reload (SIGHUP and `caretaker reload`) and a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { userInfo } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDaemon } from '../../src/server/client.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRecord } from '../../src/store/types.js';
import { BIN, cli } from '../support/cli.js';
import { tempDir, waitUntil } from '../support/tmp.js';

interface Daemon {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startDaemon(dir: string): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir,
    env: { ...process.env, CARETAKER_CONFIG: '' },
    stdio: 'ignore',
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  await waitUntil(() => findDaemon(join(dir, '.caretaker')), 'the daemon to answer', 15_000);
  return { child, exited };
}

async function runs(dir: string, task = 'tick'): Promise<RunRecord[]> {
  const store = new SqliteStore(join(dir, '.caretaker', 'caretaker.db'), { readonly: true });
  try {
    return (await store.listRuns({ task, limit: 1000 })).reverse();
  } finally {
    await store.close();
  }
}

/** Waits for a skipped run of a slot after `after` (ms), and returns it. */
const skippedAfter = (dir: string, after: number, what: string) =>
  waitUntil(
    async () => (await runs(dir)).find((r) => r.status === 'skipped' && (r.scheduledFor ?? 0) > after),
    what,
    15_000,
  );

describe('pause and resume with a real daemon', () => {
  it('survives a reload and a restart; each paused slot is a skipped run; resume runs again', async () => {
    const dir = tempDir('ct-pause-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  tick: { action: shell, schedule: "every 1s", with: { command: "true" } }\n',
    );
    let d = await startDaemon(dir);
    try {
      await waitUntil(async () => (await runs(dir)).some((r) => r.status === 'success'), 'a first run');

      const paused = cli(['pause', 'tick', '--reason', 'disk swap', '--json'], { cwd: dir });
      expect(paused.code).toBe(0);
      const record = JSON.parse(paused.stdout) as { by: string; at: number; changed: boolean };
      expect(record).toMatchObject({
        task: 'tick',
        by: userInfo().username,
        reason: 'disk swap',
        changed: true,
      });
      const reason = `paused by ${userInfo().username}: disk swap`;
      const first = await skippedAfter(dir, record.at, 'a slot skipped while paused');
      expect(first.reason).toBe(reason);

      // A manual run is refused through the daemon too: one line, exit 2.
      const refused = cli(['run-task', 'tick'], { cwd: dir });
      expect(refused.code).toBe(2);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(/task tick is paused \(by .+: disk swap\); use --force/);

      // Reload through the CLI and by SIGHUP: still paused.
      expect(cli(['reload'], { cwd: dir }).code).toBe(0);
      const afterReload = Date.now();
      await skippedAfter(dir, afterReload, 'a slot skipped after `caretaker reload`');
      d.child.kill('SIGHUP');
      const afterHup = Date.now() + 200;
      await skippedAfter(dir, afterHup, 'a slot skipped after SIGHUP');

      // A restart: the new daemon reads the pause from the store.
      d.child.kill('SIGTERM');
      expect(await d.exited).toEqual({ code: 0, signal: null });
      d = await startDaemon(dir);
      const restartedAt = Date.now();
      const afterRestart = await skippedAfter(dir, restartedAt, 'a slot skipped after the restart');
      expect(afterRestart.reason).toBe(reason);

      // Nothing ran for a slot after the pause; every such slot is a skipped row with the reason.
      const whilePaused = (await runs(dir)).filter((r) => (r.scheduledFor ?? 0) > record.at + 1_000);
      expect(whilePaused.length).toBeGreaterThanOrEqual(3);
      for (const r of whilePaused)
        expect({ status: r.status, reason: r.reason }).toEqual({ status: 'skipped', reason });

      // Shown in list-tasks and status (through the daemon), text and JSON.
      const list = cli(['list-tasks'], { cwd: dir });
      expect(list.stdout).toMatch(/every 1s PAUSED/);
      expect(list.stdout).toMatch(/tick\s+by \S+ .*ago: disk swap/);
      const tasks = JSON.parse(cli(['list-tasks', '--json'], { cwd: dir }).stdout) as { paused: unknown }[];
      expect(tasks[0]!.paused).toMatchObject({ task: 'tick', reason: 'disk swap' });
      const status = JSON.parse(cli(['status', '--json'], { cwd: dir }).stdout) as { paused: unknown[] };
      expect(status.paused).toMatchObject([{ task: 'tick', reason: 'disk swap' }]);
      expect(cli(['status'], { cwd: dir }).stdout).toMatch(/paused \(their scheduled runs are skipped/);

      // Pausing again says so and changes nothing.
      const again = cli(['pause', 'tick', '--reason', 'other'], { cwd: dir });
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^tick is already paused \(by \S+ .*: disk swap\); nothing changed/);

      const resumed = cli(['resume', 'tick'], { cwd: dir });
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toMatch(/^resumed tick \(it was paused by /);
      const resumedAt = Date.now();
      await waitUntil(
        async () => (await runs(dir)).some((r) => r.status === 'success' && (r.startedAt ?? 0) > resumedAt),
        'a run after resume',
        15_000,
      );
      expect(cli(['resume', 'tick'], { cwd: dir }).stdout).toMatch(/^tick is not paused; nothing changed/);
      const unknown = cli(['pause', 'tock'], { cwd: dir });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr.trim()).toBe('caretaker: unknown task "tock" (did you mean "tick"?)');
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });

  it('without a daemon, pause writes the store and a daemon started later keeps the task paused', async () => {
    const dir = tempDir('ct-pause-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  tick: { action: shell, schedule: "every 1s", with: { command: "true" } }\n',
    );
    const paused = cli(['pause', 'tick', '--reason', 'before start'], { cwd: dir });
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/no daemon is running here: a daemon started later keeps the task paused/);
    const d = await startDaemon(dir);
    try {
      const startedAt = Date.now();
      await skippedAfter(dir, startedAt + 1_000, 'a skipped slot');
      await skippedAfter(dir, startedAt + 2_000, 'a second skipped slot');
      expect((await runs(dir)).filter((r) => r.status !== 'skipped')).toEqual([]);
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });
});
