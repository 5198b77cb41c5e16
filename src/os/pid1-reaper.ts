/**
 * caretaker as PID 1 (a container started without an init). The kernel hands every orphaned
 * process to PID 1, and PID 1 must reap it; Node never does (it only waits for the children it
 * spawned), so each orphan of a task's command would stay a zombie for the container's life.
 *
 * On Node with `process.execve` (>= 22.15, Linux), caretaker replaces itself with a small
 * /bin/sh script that runs the same node command line as its child: the shell's `wait` reaps
 * every child it has, orphans included (measured with dash and bash), it forwards TERM, INT and
 * HUP to caretaker, and it exits with caretaker's exit code. Without `execve` it warns once;
 * the zombie-aware `groupAlive` (os/process-group.ts) keeps a killed run from hanging anyway.
 */

/** Set in the re-executed child's environment: never re-execute twice. */
export const REAPER_ENV = 'CARETAKER_PID1_REAPER';

/**
 * The shell script that becomes PID 1: "$@" is the node command line. `wait` returns early when
 * a trapped signal arrives, so it loops until the child is gone; `kill -0` on a child that has
 * exited but is not yet reaped still succeeds, so the last `wait` always collects its status.
 */
export const REAPER_SCRIPT = [
  'child=',
  'forward() { [ -n "$child" ] && kill "-$1" "$child" 2>/dev/null; }',
  "trap 'forward TERM' TERM",
  "trap 'forward INT' INT",
  "trap 'forward HUP' HUP",
  '"$@" &',
  'child=$!',
  'while :; do',
  '  wait "$child"',
  '  code=$?',
  '  kill -0 "$child" 2>/dev/null || exit "$code"',
  'done',
].join('\n');

export type Pid1Outcome =
  /** Not PID 1, not Linux, or already the reaper's child: nothing to do. */
  | 'not-needed'
  /** `execve` is missing (Node < 22.15) or failed: warned, running on without a reaper. */
  | 'warned';

export interface Pid1Options {
  readonly pid?: number;
  readonly platform?: NodeJS.Platform;
  readonly env?: NodeJS.ProcessEnv;
  /** The node binary and its arguments to run under the reaper. */
  readonly argv?: readonly string[];
  readonly execve?: ((file: string, args: string[], env: NodeJS.ProcessEnv) => void) | undefined;
  readonly warn?: (message: string) => void;
}

/**
 * When this process is PID 1 on Linux, becomes `/bin/sh` reaping orphans with caretaker as its
 * child (does not return), or warns when it cannot. Call it first thing, before any I/O.
 */
export function reapOrphansAsPid1(opts: Pid1Options = {}): Pid1Outcome {
  const pid = opts.pid ?? process.pid;
  const platform = opts.platform ?? process.platform;
  const env = opts.env ?? process.env;
  if (pid !== 1 || platform !== 'linux' || env[REAPER_ENV] === '1') return 'not-needed';
  const warn = opts.warn ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const execve =
    'execve' in opts
      ? opts.execve
      : (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => void }).execve;
  const why = 'orphaned processes of tasks will stay zombies';
  if (typeof execve !== 'function') {
    warn(
      `caretaker: warning: running as PID 1 without an init: ${why} (Node ${process.versions.node} ` +
        'cannot hand PID 1 to a reaper; that needs Node >= 22.15); run the container with --init ' +
        '(docker run --init, or tini as the entrypoint)',
    );
    return 'warned';
  }
  const argv = opts.argv ?? [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  try {
    execve('/bin/sh', ['/bin/sh', '-c', REAPER_SCRIPT, 'caretaker-init', ...argv], {
      ...env,
      [REAPER_ENV]: '1',
    });
  } catch (err) {
    warn(
      `caretaker: warning: running as PID 1 without an init: ${why} (cannot start /bin/sh as a ` +
        `reaper: ${(err as Error).message}); run the container with --init`,
    );
  }
  return 'warned';
}
