/**
 * Runs a command in its own process group so that a timeout or cancellation ends the whole tree
 * (the command and everything it started): SIGTERM to the group, then SIGKILL after a grace
 * period for whatever is left. Used by `shell` and by every action that runs external tools.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Clock } from '../core/clock.js';

export interface GroupCommand {
  /** A string runs through /bin/sh -c; a list runs the program directly (no shell). */
  readonly command: string | readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  readonly killGraceMs: number;
  readonly clock: Clock;
  readonly onOutput?: (text: string) => void;
  /** When set, standard error goes here instead of `onOutput` (to parse stdout on its own). */
  readonly onStderr?: (text: string) => void;
  readonly stdin?: string;
  /** Called with the process group id once the command runs (e.g. ctx.trackProcess). */
  readonly onStart?: (pgid: number) => void;
}

export interface GroupResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly pid: number | undefined;
  /** The group was signalled because of an abort. */
  readonly aborted: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  readonly spawnError?: string;
  readonly durationMs: number;
}

/**
 * Does the process group still have a member that can run? A zombie is a member that has exited
 * but not been reaped by its parent; `kill(-pgid, 0)` still finds it, so a group of zombies looks
 * alive until someone reaps them: PID 1 does so within about a second on a normal host, and never
 * under a PID 1 that does not reap (a container without an init, or Node itself as PID 1). A run
 * waiting for its killed group would then wait forever. On Linux, /proc tells the states apart;
 * elsewhere (or without /proc) `kill(-pgid, 0)` is the best answer there is.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    // EPERM: a member exists that we may not signal; it is alive all the same.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  return groupHasLiveMemberInProc(pgid) ?? true;
}

/** Linux: true when a process of the group is in a state other than zombie/dead; null without /proc. */
function groupHasLiveMemberInProc(pgid: number): boolean | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  let seenAny = false;
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue; // only the numeric entries are processes
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // it exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and ')', so count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue;
    seenAny = true;
    const state = fields[0];
    if (state !== 'Z' && state !== 'X' && state !== 'x') return true;
  }
  // kill() found the group but /proc shows none of it: another PID namespace's /proc is mounted
  // here, so /proc cannot answer.
  return seenAny ? false : null;
}

/** Signals a whole process group; a group already gone is fine. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function runInProcessGroup(cmd: GroupCommand): Promise<GroupResult> {
  const started = cmd.clock.monotonic();
  const [file, args] =
    typeof cmd.command === 'string'
      ? ['/bin/sh', ['-c', cmd.command]]
      : [cmd.command[0]!, cmd.command.slice(1)];
  return new Promise((resolvePromise) => {
    if (cmd.signal.aborted) {
      resolvePromise({ exitCode: null, signal: null, pid: undefined, aborted: true, durationMs: 0 });
      return;
    }
    const child = spawn(file, args, {
      cwd: cmd.cwd,
      env: cmd.env,
      detached: true, // setsid(): a new session and process group led by the child
      stdio: [cmd.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const pgid = child.pid;
    if (pgid !== undefined) cmd.onStart?.(pgid);
    let aborted = false;
    let killTimer: ReturnType<Clock['setTimer']> | undefined;
    let settled = false;

    const decoders = [new StringDecoder('utf8'), new StringDecoder('utf8')];
    child.stdout?.on('data', (b: Buffer) => cmd.onOutput?.(decoders[0]!.write(b)));
    const onErr = cmd.onStderr ?? cmd.onOutput;
    child.stderr?.on('data', (b: Buffer) => onErr?.(decoders[1]!.write(b)));
    if (cmd.stdin !== undefined) {
      child.stdin?.on('error', () => {}); // EPIPE when the command does not read its input
      child.stdin?.end(cmd.stdin);
    }

    const onAbort = () => {
      if (pgid === undefined || aborted) return;
      aborted = true;
      signalGroup(pgid, 'SIGTERM');
      killTimer = cmd.clock.setTimer(() => signalGroup(pgid, 'SIGKILL'), cmd.killGraceMs);
    };
    cmd.signal.addEventListener('abort', onAbort, { once: true });

    const finish = (result: Omit<GroupResult, 'durationMs' | 'pid' | 'aborted'>) => {
      if (settled) return;
      settled = true;
      cmd.signal.removeEventListener('abort', onAbort);
      const [outTail, errTail] = decoders.map((d) => d.end());
      if (outTail) cmd.onOutput?.(outTail);
      if (errTail) onErr?.(errTail);
      resolvePromise({
        ...result,
        pid: pgid,
        aborted,
        durationMs: Math.round(cmd.clock.monotonic() - started),
      });
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (killTimer) cmd.clock.clearTimer(killTimer);
      finish({
        exitCode: null,
        signal: null,
        spawnError: `cannot start ${file}: ${err.code ?? err.message}`,
      });
    });
    child.on('exit', (code, sig) => {
      const done = () => {
        if (killTimer) cmd.clock.clearTimer(killTimer);
        finish({ exitCode: code, signal: sig });
      };
      if (aborted && pgid !== undefined && groupAlive(pgid)) {
        // The leader is gone but its children may ignore SIGTERM: the SIGKILL timer ends them.
        const wait = () => (groupAlive(pgid) ? setTimeout(wait, 20) : done());
        wait();
        return;
      }
      // Let the pipes drain; a background grandchild may hold them open, so do not wait long.
      if (child.stdout && !child.stdout.readableEnded) {
        const t = setTimeout(done, 200);
        child.on('close', () => {
          clearTimeout(t);
          done();
        });
      } else done();
    });
  });
}
