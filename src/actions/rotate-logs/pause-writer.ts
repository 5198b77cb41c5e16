/**
 * `pause_writer` for copytruncate: the writer (from its pid file) is stopped with SIGSTOP for the
 * final read and the truncate, then continued — no line can land between them, which closes the
 * last window of copytruncate. A detached watchdog sends SIGCONT a few seconds later whatever
 * happens to us, so a crash of caretaker can never leave the writer frozen.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const WATCHDOG_SECONDS = 5;

function allStopped(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tasks.every((t) => {
    try {
      // The state follows the command name in parentheses, which may itself hold spaces.
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state === 'T' || state === 't' || state === 'Z' || state === 'X';
    } catch {
      return true; // the thread is gone
    }
  });
}

export interface Paused {
  /** Continues the writer (idempotent). */
  resume(): void;
}

/**
 * Stops `pid` and waits (briefly, busy) until every thread of it is stopped. Returns undefined,
 * with the reason, when it cannot (no such process, not ours to signal).
 */
export function pauseWriter(pid: number): Paused | { error: string } {
  const watchdog = spawn('/bin/sh', ['-c', `sleep ${WATCHDOG_SECONDS}; kill -CONT ${pid} 2>/dev/null`], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
  const stopWatchdog = () => {
    try {
      if (watchdog.pid) process.kill(-watchdog.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  try {
    process.kill(pid, 'SIGSTOP');
  } catch (err) {
    stopWatchdog();
    return { error: `cannot pause pid ${pid}: ${(err as NodeJS.ErrnoException).code}` };
  }
  let resumed = false;
  const resume = () => {
    if (resumed) return;
    resumed = true;
    try {
      process.kill(pid, 'SIGCONT');
    } finally {
      stopWatchdog();
    }
  };
  const deadline = Date.now() + 1_000;
  while (!allStopped(pid)) {
    if (Date.now() > deadline) {
      resume();
      return { error: `pid ${pid} did not stop within 1s` };
    }
  }
  return { resume };
}
