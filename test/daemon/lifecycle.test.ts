import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDaemon } from '../../src/server/client.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRecord } from '../../src/store/types.js';
import { BIN, cli } from '../support/cli.js';
import { processAlive, tempDir, waitUntil } from '../support/tmp.js';

interface Daemon {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

async function startDaemon(dir: string): Promise<Daemon> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: dir,
    env: { ...process.env, CARETAKER_CONFIG: '' },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  await waitUntil(() => findDaemon(join(dir, '.caretaker')), 'the daemon to answer', 15_000);
  return { child, exited, output: () => output };
}

function runs(dir: string): Promise<RunRecord[]> {
  const store = new SqliteStore(join(dir, '.caretaker', 'caretaker.db'));
  return store.listRuns({ limit: 100 }).finally(() => store.close());
}

describe('daemon lifecycle (real processes)', () => {
  it('on SIGTERM stops starting runs, lets a running one finish, and exits 0', async () => {
    const dir = tempDir('ct-daemon-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  short: { action: shell, with: { command: "sleep 0.5; echo finished" } }\n',
    );
    const d = await startDaemon(dir);
    expect(cli(['run-task', 'short'], { cwd: dir }).code).toBe(0);
    await waitUntil(async () => (await runs(dir))[0]?.status === 'running', 'the run to start');
    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    const [run] = await runs(dir);
    expect(run).toMatchObject({ status: 'success', outputTail: 'finished\n' });
  });

  it('stops gracefully on a SIGTERM sent the moment its control socket appears', async () => {
    // Whoever sees the daemon up (a supervisor, a test) may signal it at once: the handlers must
    // be on before the socket answers, or the default action kills it (exit by signal).
    const dir = tempDir('ct-daemon-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  a: { action: shell, with: { command: "true" } }\n',
    );
    const child = spawn(process.execPath, [BIN, 'start'], {
      cwd: dir,
      env: { ...process.env, CARETAKER_CONFIG: '' },
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on('exit', (code, signal) => r({ code, signal })),
    );
    const socket = join(dir, '.caretaker', 'control.sock');
    await waitUntil(() => existsSync(socket), 'the control socket', 15_000);
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
  });

  it('after the shutdown grace kills a run that will not finish, records it interrupted, exits 0', async () => {
    const dir = tempDir('ct-daemon-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\nshutdown_grace: 300ms\ntasks:\n  long: { action: shell, kill_grace: 1s, with: { command: "echo $$ > long.pid; sleep 30" } }\n',
    );
    const d = await startDaemon(dir);
    cli(['run-task', 'long'], { cwd: dir });
    const pid = await waitUntil(
      () => (existsSync(join(dir, 'long.pid')) ? Number(readFileSync(join(dir, 'long.pid'), 'utf8')) : 0),
      'the task to start',
    );
    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(processAlive(pid)).toBe(false);
    const [run] = await runs(dir);
    expect(run!.status).toBe('interrupted');
    expect(run!.reason).toMatch(
      /caretaker is stopping; the run did not finish within the shutdown grace \(300ms\)/,
    );
  });

  it('after SIGKILL, the next start marks the run interrupted, ends its orphaned process, keeps all history', async () => {
    const dir = tempDir('ct-daemon-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  quick: { action: shell, with: { command: "echo one" } }\n  long: { action: shell, with: { command: "echo $$ > long.pid; exec sleep 30" } }\n',
    );
    const d = await startDaemon(dir);
    expect(cli(['run-task', 'quick', '--wait'], { cwd: dir }).code).toBe(0);
    cli(['run-task', 'long'], { cwd: dir });
    const orphan = await waitUntil(
      () => (existsSync(join(dir, 'long.pid')) ? Number(readFileSync(join(dir, 'long.pid'), 'utf8')) : 0),
      'the task to start',
    );
    d.child.kill('SIGKILL');
    await d.exited;
    try {
      expect((await runs(dir)).map((r) => `${r.task}:${r.status}`)).toEqual([
        'long:running',
        'quick:success',
      ]);
      const d2 = await startDaemon(dir);
      const after = await runs(dir);
      expect(after.map((r) => `${r.task}:${r.status}`)).toEqual(['long:interrupted', 'quick:success']);
      expect(after[0]!.reason).toMatch(
        /caretaker stopped while this run was in progress \(process \d+ is gone\)/,
      );
      expect(after[0]!.reason).toContain(
        `; its process group ${orphan} was still running and has been terminated`,
      );
      await waitUntil(() => !processAlive(orphan), 'the orphaned task process to be terminated');
      d2.child.kill('SIGTERM');
      expect((await d2.exited).code).toBe(0);
    } finally {
      if (processAlive(orphan)) process.kill(orphan, 'SIGKILL');
    }
  });

  it('reloads on SIGHUP and keeps the running configuration when the new one is broken', async () => {
    const dir = tempDir('ct-daemon-');
    const file = join(dir, 'caretaker.yaml');
    writeFileSync(
      file,
      'version: 1\ntasks:\n  a: { action: shell, schedule: "@daily", with: { command: "true" } }\n',
    );
    const d = await startDaemon(dir);
    const upcoming = async () => {
      const h = await findDaemon(join(dir, '.caretaker'));
      return (await h!.call<{ upcoming: { task: string }[] }>('GET', '/v1/status')).upcoming
        .map((u) => u.task)
        .sort();
    };
    expect(await upcoming()).toEqual(['a']);
    writeFileSync(
      file,
      'version: 1\ntasks:\n  a: { action: shell, schedule: "@daily", with: { command: "true" } }\n  b: { action: shell, schedule: "@hourly", with: { command: "true" } }\n',
    );
    d.child.kill('SIGHUP');
    await waitUntil(async () => (await upcoming()).length === 2, 'the reload');
    expect(await upcoming()).toEqual(['a', 'b']);

    writeFileSync(file, 'version: 1\ntasks:\n  a: { action: shel }\n');
    const reload = cli(['reload'], { cwd: dir });
    expect(reload.code).toBe(2);
    expect(reload.stderr).toMatch(/caretaker\.yaml:3:\d+: tasks\.a\.action: unknown action "shel"/);
    d.child.kill('SIGHUP');
    await waitUntil(
      () => d.output().includes('configuration not reloaded'),
      'the daemon to refuse the broken file',
    );
    expect(await upcoming()).toEqual(['a', 'b']);
    d.child.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
    // One line per reload that took, not two (the engine and the daemon each logged it).
    expect(d.output().match(/configuration reloaded/g)).toHaveLength(1);
    // Durations in messages read as durations: "30s", not "30000 ms".
    expect(d.output()).toMatch(/stopping \(running tasks get 30s to finish\)/);
  });
});
