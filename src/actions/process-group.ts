/**
 * Runs a command in its own process group so that a timeout or cancellation ends the whole tree
 * (the command and everything it started): SIGTERM to the group, then SIGKILL after a grace
 * period for whatever is left. Used by `shell` and by every action that runs external tools.
 */
import { spawn } from 'node:child_process';
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

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function runInProcessGroup(cmd: GroupCommand): Promise<GroupResult> {
  const started = cmd.clock.now();
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
      killGroup(pgid, 'SIGTERM');
      killTimer = cmd.clock.setTimer(() => killGroup(pgid, 'SIGKILL'), cmd.killGraceMs);
    };
    cmd.signal.addEventListener('abort', onAbort, { once: true });

    const finish = (result: Omit<GroupResult, 'durationMs' | 'pid' | 'aborted'>) => {
      if (settled) return;
      settled = true;
      cmd.signal.removeEventListener('abort', onAbort);
      const [outTail, errTail] = decoders.map((d) => d.end());
      if (outTail) cmd.onOutput?.(outTail);
      if (errTail) onErr?.(errTail);
      resolvePromise({ ...result, pid: pgid, aborted, durationMs: cmd.clock.now() - started });
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
