/**
 * Crash recovery: runs a dead process left behind. At start, runs left `running` by a daemon or
 * CLI run that is gone become `interrupted` (their orphaned process group is ended), queued runs
 * go back to the queue, and queued runs of tasks no longer configured are cancelled. A CLI run
 * of a task settles a dead holder of that task the same way.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { groupAlive, signalGroup } from '../os/process-group.js';
import { sameProcess } from '../os/process-identity.js';
import type { RunRecord, Store } from '../store/types.js';
import type { RunLedger } from './run-ledger.js';

export interface CrashRecoveryDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ledger: RunLedger;
  /** This process: its runs are never "held elsewhere". */
  readonly pid: number;
  readonly isAlive: (pid: number) => boolean;
  config(): Config;
}

const DEFAULT_KILL_GRACE_MS = 10_000;

/** Settles what a previous process left in the store; queued runs go back to the ledger's queue. */
export async function recoverRuns(d: CrashRecoveryDeps, now: number): Promise<void> {
  const config = d.config();
  for (const run of await d.store.activeRuns(config.host)) {
    // A live CLI process's run (running, or waiting for its turn): that process will see it through.
    if (run.pid !== null && run.pid !== d.pid && d.isAlive(run.pid)) continue;
    if (run.status === 'running') {
      await interruptRun(d, run, now, 'at the next start');
    } else {
      const task = config.tasks.find((t) => t.id === run.task);
      if (!task || !task.enabled) {
        await d.ledger.finishAndSettle(run.id, {
          status: 'cancelled',
          finishedAt: now,
          reason: `task "${run.task}" is no longer in the configuration`,
        });
      } else {
        d.ledger.queue.set(run.id, { run, readyAt: Math.max(run.notBefore ?? run.queuedAt, 0) });
      }
    }
  }
}

/**
 * A run of the task held by another live process (the daemon, or another CLI run). Runs held by
 * a dead process (a CLI run-task killed with SIGKILL, no daemon to recover it) are settled on
 * the way, as the daemon would at its next start.
 */
export async function activeElsewhere(d: CrashRecoveryDeps, taskId: string): Promise<RunRecord | undefined> {
  return (await liveRunsOf(d, taskId)).find((r) => r.pid !== d.pid);
}

/**
 * The task's queued and running runs (not dry runs) of every live process, this one included,
 * oldest first, as the store has them. A run held by a dead process is settled on the way: a
 * running one is interrupted, a waiting one cancelled.
 */
export async function liveRunsOf(d: CrashRecoveryDeps, taskId: string): Promise<RunRecord[]> {
  const active = await d.store.activeRuns(d.config().host);
  const live: RunRecord[] = [];
  for (const r of active) {
    if (r.task !== taskId || r.dryRun || r.pid === null) continue;
    // Queued runs this process recovered keep the pid of the process that queued them.
    if (r.pid === d.pid || d.ledger.queue.has(r.id) || d.isAlive(r.pid)) live.push(r);
    else if (r.status === 'running') await interruptRun(d, r, d.clock.now(), 'when the task was run again');
    else
      await d.ledger.finishAndSettle(r.id, {
        status: 'cancelled',
        finishedAt: d.clock.now(),
        reason: `the process that queued it (pid ${r.pid}) is gone`,
      });
  }
  return live.sort((a, b) => a.id - b.id);
}

/** Settles a run whose process died: interrupted, and its orphaned process group ended. */
export async function interruptRun(
  d: CrashRecoveryDeps,
  run: RunRecord,
  now: number,
  foundBy: string,
): Promise<void> {
  let reason = `caretaker stopped while this run was in progress (process ${run.pid ?? '?'} is gone); marked interrupted ${foundBy}`;
  if (run.childPgid !== null && sameProcess(run.childPgid, run.childStarted)) {
    const pgid = run.childPgid;
    if (groupAlive(pgid)) {
      // The task's own process group outlived caretaker: end it rather than let the task
      // run twice at once when it is scheduled again.
      const grace = d.config().tasks.find((t) => t.id === run.task)?.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
      signalGroup(pgid, 'SIGTERM');
      d.clock.setTimer(() => signalGroup(pgid, 'SIGKILL'), grace);
      reason += `; its process group ${pgid} was still running and has been terminated`;
    } else {
      // Only zombies are left (exited, never reaped: a PID 1 that does not reap): the command
      // had finished, there is nothing to end.
      reason += `; its command had already finished (process group ${pgid} was left only as an unreaped zombie, nothing to terminate)`;
    }
  }
  const final = await d.ledger.finish(run.id, { status: 'interrupted', finishedAt: now, reason });
  d.logger.warn({ task: run.task, run: run.id }, `${run.task} interrupted: ${reason}`);
  d.ledger.settled(final);
}
