/**
 * Runs a program as PID 1 of a new PID namespace (`unshare --pid --fork --mount-proc`, root
 * only): the situation of a container started without an init. Also finds a Node that has
 * `process.execve` (>= 22.15), which the PID 1 reaper needs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { skipBecause } from './skip-reason.js';

let unshareChecked: string | undefined | null = null;

/** undefined when unshare can make a PID namespace here; else the printed reason. */
export function pidNamespaceUnavailable(): string | undefined {
  if (unshareChecked !== null) return unshareChecked;
  const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { encoding: 'utf8' });
  unshareChecked =
    r.status === 0
      ? undefined
      : skipBecause(
          'the PID 1 tests',
          `\`unshare --pid --fork --mount-proc\` does not work here (${(r.error?.message ?? r.stderr).trim() || `exit ${r.status}`}); they need root and util-linux`,
        );
  return unshareChecked;
}

const CACHED_NODE22 = join(
  homedir(),
  '.cache',
  'caretaker-ci',
  'node22',
  'node_modules',
  'node',
  'bin',
  'node',
);

function hasExecve(node: string): boolean {
  const r = spawnSync(node, ['-e', 'process.exit(typeof process.execve === "function" ? 0 : 1)']);
  return r.status === 0;
}

/** A Node binary with process.execve, or the printed reason there is none. */
export function nodeWithExecve(): { node: string } | { why: string } {
  if (typeof (process as { execve?: unknown }).execve === 'function') return { node: process.execPath };
  if (existsSync(CACHED_NODE22) && hasExecve(CACHED_NODE22)) return { node: CACHED_NODE22 };
  return {
    why: skipBecause(
      'the PID 1 reaper tests on Node >= 22.15',
      `this is Node ${process.versions.node}, which has no process.execve, and no Node 22 is at ${CACHED_NODE22} ` +
        '(npm install --prefix ~/.cache/caretaker-ci/node22 node@22)',
    ),
  };
}

export interface Pid1Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node args…` as PID 1 of a new PID namespace and collects its output. */
export function runAsPid1(
  node: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    onStdout?: (text: string, outerPid1: () => number) => void;
  } = {},
): Promise<Pid1Run> {
  return new Promise((resolve) => {
    const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', node, ...args], {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
    });
    // unshare --fork: its one child is PID 1 inside the namespace.
    const outerPid1 = () =>
      Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout, outerPid1);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
