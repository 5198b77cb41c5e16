/**
 * What a run means for alerts: a failure, a warning, a timeout ("stuck"), a missed deadline, the
 * recovery after them, the thresholds an action reports, and run-time anomalies — a run going on
 * far longer than usual (a timer on the injected clock fires while it still runs), one that
 * finished suspiciously fast, too many starts, too many failures over a window.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { SUCCESS_STATUSES, type RunRecord, type Store } from '../store/types.js';
import { failureRate, tooLong, tooLongAfter, tooOften, tooShort, type Anomaly } from './anomalies.js';
import type { Notifier } from './notifier.js';
import type { AlertSubject, AlertTaskInfo } from './types.js';

const HISTORY = 100;

export const taskKey = (task: string) => `task:${task}`;
const anomalyKey = (task: string, kind: string) => `anomaly:${task}:${kind}`;
const thresholdPrefix = (task: string) => `threshold:${task}:`;

export interface RunAlertsOptions {
  readonly notifier: Notifier;
  readonly store: Store;
  readonly clock: Clock;
  /** The tasks as configured now (a getter: reloads change them). */
  readonly tasks: () => ReadonlyMap<string, AlertTaskInfo>;
}

function firstLine(text: string | null | undefined): string {
  return (text ?? '').trim().split('\n')[0] ?? '';
}

export class RunAlerts {
  readonly #o: RunAlertsOptions;
  readonly #longTimers = new Map<number, TimerHandle>();
  /** Runs started and not finished: a too-long timer is armed only for one still going. */
  readonly #live = new Set<number>();

  constructor(opts: RunAlertsOptions) {
    this.#o = opts;
  }

  stop(): void {
    for (const t of this.#longTimers.values()) this.#o.clock.clearTimer(t);
    this.#longTimers.clear();
    this.#live.clear();
  }

  #subject(task: string): AlertSubject {
    const info = this.#o.tasks().get(task);
    return { kind: 'task', id: task, owner: info?.owner, description: info?.description };
  }

  async #pastDurations(task: string, exceptRun: number): Promise<number[]> {
    const runs = await this.#o.store.listRuns({ task, limit: HISTORY + 1, statuses: SUCCESS_STATUSES });
    return runs
      .filter((r) => r.id !== exceptRun && !r.dryRun && r.durationMs !== null)
      .slice(0, HISTORY)
      .map((r) => r.durationMs!);
  }

  #anomaly(run: RunRecord, kind: string, found: Anomaly | null): void {
    const key = anomalyKey(run.task, kind);
    if (found) {
      this.#o.notifier.signal(
        {
          kind: 'problem',
          key,
          subject: this.#subject(run.task),
          event: 'anomaly',
          level: 'warn',
          message: `${run.task}: ${found.message}`,
          oneShot: true,
        },
        { run, details: { anomaly: found.kind, ...found.details } },
      );
    } else {
      this.#o.notifier.signal({ kind: 'clear', key, message: 'back to normal' });
    }
  }

  started(run: RunRecord): void {
    if (run.dryRun) return;
    const policy = this.#o.tasks().get(run.task)?.anomalies;
    if (!policy) return;
    const { clock, store } = this.#o;
    this.#live.add(run.id);
    // In the notifier's queue, so the findings are signalled in the order runs happened.
    this.#o.notifier.enqueue(async () => {
      const now = clock.now();
      if (policy.tooOften) {
        const recent = await store.listRuns({ task: run.task, limit: policy.tooOften.max + 50 });
        const starts = recent.filter(
          (r) => !r.dryRun && r.startedAt !== null && r.startedAt > now - policy.tooOften!.perMs,
        ).length;
        this.#anomaly(run, 'too_often', tooOften(starts, policy));
      }
      const past = await this.#pastDurations(run.task, run.id);
      const limit = tooLongAfter(past, policy);
      // A run that finished while its history was read (a quick one) is not going on too long.
      if (limit === null || !this.#live.has(run.id)) return;
      const startedAt = run.startedAt ?? now;
      const timer = clock.setTimer(
        () => {
          this.#longTimers.delete(run.id);
          this.#anomaly(run, 'too_long', tooLong(clock.now() - startedAt, past, policy));
        },
        Math.max(0, startedAt + limit - now + 1),
      );
      this.#longTimers.set(run.id, timer);
    });
  }

  finished(run: RunRecord, retrying: boolean): void {
    this.#live.delete(run.id);
    const timer = this.#longTimers.get(run.id);
    if (timer) this.#o.clock.clearTimer(timer);
    this.#longTimers.delete(run.id);
    if (run.dryRun || retrying) return;
    const task = run.task;
    const subject = this.#subject(task);
    const why = firstLine(run.reason ?? run.result?.summary) || run.status;
    const n = this.#o.notifier;
    const key = taskKey(task);
    switch (run.status) {
      case 'success':
        n.signal(
          { kind: 'clear', key, message: `${task} succeeded again: ${firstLine(run.result?.summary)}` },
          { run },
        );
        break;
      case 'warning': {
        const warnings = (run.result?.warnings ?? []).slice(0, 10).join('\n');
        n.signal(
          {
            kind: 'problem',
            key,
            subject,
            event: 'warn',
            level: 'warn',
            message: `${why}${warnings ? `\n${warnings}` : ''}`,
          },
          { run },
        );
        break;
      }
      case 'failed':
      case 'interrupted':
        n.signal({ kind: 'problem', key, subject, event: 'failure', level: 'fail', message: why }, { run });
        break;
      case 'timeout':
        n.signal({ kind: 'problem', key, subject, event: 'stuck', level: 'fail', message: why }, { run });
        break;
      default:
        return; // skipped and cancelled runs say nothing about the task's health
    }
    this.#thresholds(run);
    this.#finishedAnomalies(run);
  }

  /** A scheduled run that could not start by its deadline. */
  missed(run: RunRecord): void {
    this.#o.notifier.signal(
      {
        kind: 'problem',
        key: taskKey(run.task),
        subject: this.#subject(run.task),
        event: 'missed',
        level: 'fail',
        message: run.reason ?? 'a scheduled run did not start by its deadline',
      },
      { run },
    );
  }

  #thresholds(run: RunRecord): void {
    const reported = new Map((run.result?.alerts ?? []).map((a) => [a.key, a]));
    const n = this.#o.notifier;
    for (const a of reported.values()) {
      n.signal(
        {
          kind: 'problem',
          key: `${thresholdPrefix(run.task)}${a.key}`,
          subject: this.#subject(run.task),
          event: 'threshold',
          level: 'warn',
          message: a.message,
        },
        { run },
      );
    }
    // Thresholds no longer reported are back to normal.
    n.enqueue(async () => {
      const open = await this.#o.store.listIncidents({ open: true, limit: 10_000 });
      for (const i of open) {
        if (!i.key.startsWith(thresholdPrefix(run.task))) continue;
        if (!reported.has(i.key.slice(thresholdPrefix(run.task).length)))
          n.signal({ kind: 'clear', key: i.key, message: 'back under the threshold' }, { run });
      }
    });
  }

  #finishedAnomalies(run: RunRecord): void {
    const policy = this.#o.tasks().get(run.task)?.anomalies;
    if (!policy) return;
    const { clock, store } = this.#o;
    this.#o.notifier.enqueue(async () => {
      if (SUCCESS_STATUSES.includes(run.status) && run.durationMs !== null) {
        const past = await this.#pastDurations(run.task, run.id);
        this.#anomaly(run, 'too_short', tooShort(run.durationMs, past, policy));
        if (policy.tooLong !== null && !tooLong(run.durationMs, past, policy))
          this.#o.notifier.signal({
            kind: 'clear',
            key: anomalyKey(run.task, 'too_long'),
            message: 'back to normal',
          });
      }
      const rule = policy.failureRate;
      if (rule) {
        const since = clock.now() - rule.overMs;
        const runs = (await store.listRuns({ task: run.task, limit: 5_000 })).filter(
          (r) =>
            !r.dryRun &&
            r.finishedAt !== null &&
            r.finishedAt >= since &&
            ['success', 'warning', 'failed', 'timeout', 'interrupted'].includes(r.status),
        );
        const failures = runs.filter((r) => !SUCCESS_STATUSES.includes(r.status)).length;
        this.#anomaly(run, 'failure_rate', failureRate(runs.length, failures, policy));
      }
    });
  }
}
