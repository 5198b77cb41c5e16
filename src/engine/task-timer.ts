/**
 * One task's place in time: the next schedule fire not yet turned into a run, and the instant it
 * becomes due (after jitter, window and cooldown). Collects due fires, telling on-time ones from
 * those missed while the daemon was down or the machine was suspended.
 */
import type { TaskConfig } from '../config/types.js';
import { dueTime, jitterOffset } from '../core/due-time.js';
import { nextFire, periodAround } from '../core/schedule.js';

/** Fires more than this late are treated as missed (machine suspended, clock jumped). */
export const LATE_AFTER_MS = 60_000;
const MAX_FIRES_PER_PASS = 100_000;

export interface DueFires {
  readonly onTime: number[];
  /** The latest missed fires (at most `keep`), oldest first. */
  readonly late: number[];
  readonly lateCount: number;
}

export class TaskTimer {
  readonly jitter: number;
  #periodMs: number | undefined;
  pendingFire: number | null = null;
  dueAt: number | null = null;
  /** The latest fire already taken (or the claimed fire it started after). */
  lastTaken: number | null = null;

  constructor(
    readonly task: TaskConfig,
    host: string,
    public lastStartedAt: number | null,
    now: number,
  ) {
    this.jitter = jitterOffset(task.id, host, task.jitterMs);
    this.#createdAt = now;
  }

  readonly #createdAt: number;

  /** The usual gap between fires (for urgency); computed on first use, it costs two cron steps. */
  get periodMs(): number {
    this.#periodMs ??= this.task.schedule ? periodAround(this.task.schedule, this.#createdAt) : 3_600_000;
    return this.#periodMs;
  }

  get scheduled(): boolean {
    return this.task.enabled && this.task.schedule !== null;
  }

  /** Positions the timer after `from` (the last claimed fire, or now for a new task). */
  startAfter(from: number): void {
    this.pendingFire = this.scheduled ? nextFire(this.task.schedule!, from) : null;
    this.lastTaken = from;
    this.refreshDue();
  }

  /**
   * The wall clock was stepped back by `byMs` (now `now`): as cron does, the next fire is the
   * schedule's first after now — not the one planned before the step, which is now `byMs`
   * further away — except that the fire taken last is not taken again. The last start moves
   * with the clock, so a cooldown still counts real time.
   */
  wallSteppedBack(byMs: number, now: number): void {
    if (this.lastStartedAt !== null) this.lastStartedAt -= byMs;
    if (this.scheduled) {
      let fire = nextFire(this.task.schedule!, now);
      if (fire !== null && fire === this.lastTaken) fire = nextFire(this.task.schedule!, fire);
      if (fire !== null && (this.pendingFire === null || fire < this.pendingFire)) this.pendingFire = fire;
    }
    this.refreshDue();
  }

  dueOf(fire: number): number {
    return dueTime(fire, this.task, this.jitter, this.lastStartedAt);
  }

  refreshDue(): void {
    this.dueAt = this.pendingFire === null ? null : this.dueOf(this.pendingFire);
  }

  /** Takes every fire due by `now`, advancing the timer past them. */
  takeDue(now: number, lateAfterMs: number, keep: number): DueFires {
    const onTime: number[] = [];
    const late: number[] = [];
    let lateCount = 0;
    let fire = this.pendingFire;
    let n = 0;
    while (fire !== null && this.dueOf(fire) <= now) {
      if (++n > MAX_FIRES_PER_PASS) {
        // Years of a per-second schedule: count the rest as missed without walking them.
        lateCount += 1;
        fire = nextFire(this.task.schedule!, now);
        break;
      }
      this.lastTaken = fire;
      if (this.dueOf(fire) < now - lateAfterMs) {
        lateCount++;
        late.push(fire);
        if (late.length > keep) late.shift();
      } else {
        onTime.push(fire);
      }
      fire = nextFire(this.task.schedule!, fire);
    }
    this.pendingFire = fire;
    this.refreshDue();
    return { onTime, late, lateCount };
  }
}
