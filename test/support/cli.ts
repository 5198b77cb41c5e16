/** Runs the built `caretaker` binary as a user would. */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function cli(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string },
): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, CARETAKER_CONFIG: '', ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  // A command that hung says so in what the test prints, rather than as an empty stdout.
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  // So is one ended by a signal (a crash, or killed from outside): its code alone would be -1.
  const ended = timedOut
    ? `[test: caretaker ${args.join(' ')} did not end within 60 s]\n`
    : r.signal
      ? `[test: caretaker ${args.join(' ')} ended by ${r.signal}]\n`
      : '';
  return { code: r.status ?? -1, stdout: r.stdout, stderr: `${r.stderr}${ended}` };
}

export function cliAsync(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, CARETAKER_CONFIG: '', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}
