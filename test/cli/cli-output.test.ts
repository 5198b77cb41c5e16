/**
 * What every command owes a script or a person reading its output: all of it through a pipe,
 * errors as JSON with --json, one clean line (never a stack) when it refuses.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

function manyTasks(dir: string, n: number): void {
  const lines = ['version: 1', 'tasks:'];
  for (let i = 0; i < n; i++) lines.push(`  task-${i}: { action: shell, with: { command: 'echo ${i}' } }`);
  writeFileSync(join(dir, 'caretaker.yaml'), `${lines.join('\n')}\n`);
}

/** Runs the CLI into a pipe whose reader waits before reading, then reads slowly. */
function throughSlowPipe(args: string[], cwd: string): Promise<{ code: number | null; bytes: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, CARETAKER_CONFIG: '' },
    });
    let bytes = 0;
    // The listener goes on at once, on a paused stream: a child that exits while nobody listens
    // has its stdout resumed by node (flushStdio) and what it held is thrown away — with a
    // socket buffer of 208 KiB here, a CLI quick enough to write all and exit inside the wait
    // read as 0 bytes.
    child.stdout.pause();
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 2);
    });
    setTimeout(() => child.stdout.resume(), 500);
    // Done once the process exited and every byte was read: 'end' comes only after the last
    // chunk was consumed, where 'close' may come while the paused stream still holds data.
    let code: number | null | undefined;
    let ended = false;
    const done = () => code !== undefined && ended && resolve({ code, bytes });
    child.on('exit', (c) => {
      code = c;
      done();
    });
    child.stdout.on('end', () => {
      ended = true;
      done();
    });
  });
}

describe('output through a pipe', () => {
  it('arrives whole when the reader is slower than the writer (it was cut at 64 KiB)', async () => {
    const dir = tempDir('ct-pipe-');
    // Well past what the pipe (a socketpair: 208 KiB) and node's read buffer can hold together,
    // so that the CLI must wait for the reader before it may exit.
    manyTasks(dir, 2500);
    const toFile = cli(['list-tasks', '--json'], { cwd: dir });
    expect(toFile.code).toBe(0);
    const expected = Buffer.byteLength(toFile.stdout);
    expect(expected).toBeGreaterThan(800 * 1024);
    const piped = await throughSlowPipe(['list-tasks', '--json'], dir);
    expect(piped).toEqual({ code: 0, bytes: expected });
  });
});

describe('errors with --json', () => {
  it('are one JSON object on stderr with the exit code, for usage, config and commander errors', () => {
    const dir = tempDir('ct-json-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  a: { action: shell, with: { command: "true" } }\n',
    );
    const usage = cli(['history', '--limit', 'x', '--json'], { cwd: dir });
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stderr)).toEqual({
      error: '--limit expects a whole number ≥ 1, got "x"',
      exitCode: 2,
    });
    const option = cli(['history', '--bogus', '--json'], { cwd: dir });
    expect(option.code).toBe(2);
    expect(JSON.parse(option.stderr)).toMatchObject({ error: "unknown option '--bogus'", exitCode: 2 });
    writeFileSync(join(dir, 'broken.yaml'), 'version: 1\ntasks:\n  a: { action: nope }\n');
    const config = cli(['run-task', 'a', '-c', 'broken.yaml', '--json'], { cwd: dir });
    expect(config.code).toBe(2);
    const parsed = JSON.parse(config.stderr) as {
      exitCode: number;
      issues: { line: number; path: string }[];
    };
    expect(parsed.exitCode).toBe(2);
    expect(parsed.issues[0]).toMatchObject({ line: 3, path: 'tasks.a.action' });
  });

  it('stay plain text lines without --json', () => {
    const dir = tempDir('ct-json-');
    writeFileSync(join(dir, 'caretaker.yaml'), 'version: 1\ntasks: {}\n');
    const r = cli(['history', '--limit', '0'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('caretaker: --limit expects a whole number ≥ 1, got "0"\n');
  });
});

describe('a second start while a daemon runs', () => {
  it('prints the refusal once and exits 2, without a stack trace (it crashed in the logger)', () => {
    const dir = tempDir('ct-twice-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\ntasks:\n  a: { action: shell, schedule: "@hourly", with: { command: "true" } }\n',
    );
    expect(cli(['start', '--daemon'], { cwd: dir }).code).toBe(0);
    try {
      const again = cli(['start'], { cwd: dir });
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(
        /^caretaker: another caretaker is already running on .* stop it first with `caretaker stop`\n$/,
      );
      expect(again.stderr).not.toMatch(/Error|at /);
    } finally {
      expect(cli(['stop'], { cwd: dir }).code).toBe(0);
    }
  });
});

describe('a state dir that cannot exist', () => {
  it('is one clear line and exit 2 (under /proc, list-tasks spun at 100% CPU forever)', () => {
    const dir = tempDir('ct-proc-');
    writeFileSync(
      join(dir, 'caretaker.yaml'),
      'version: 1\nstate_dir: /proc/caretaker-state\ntasks:\n  a: { action: shell, with: { command: "true" } }\n',
    );
    // Commands that write need the state dir: one line, exit 2, at once.
    for (const args of [['run-task', 'a'], ['start']]) {
      const r = cli(args, { cwd: dir });
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toMatch(
        /^caretaker: cannot create the (state|log) directory \/proc\/caretaker-state(\/logs)?: its parent cannot hold directories \(a virtual filesystem such as \/proc\?\)\n$/,
      );
    }
    // Read-only commands create nothing: an empty history, at once.
    const tasks = cli(['list-tasks'], { cwd: dir });
    expect(tasks.code).toBe(0);
    expect(tasks.stdout).toMatch(/^a\s+shell\s+manual\s+-\s+never ran/m);
  });
});
