/**
 * The slots of `scope: cluster` tasks that this daemon claimed: a scheduled fire of a cluster
 * task is acted on (queued, skipped, caught up) only by the host whose claim of (task, fire) was
 * first. The claim names the run executing it (each retry in turn) and ends, done or skipped,
 * with the slot's final word. Fires another host claimed only move this host's last fire on.
 */
import type { Logger } from 'pino';
import type { Config, TaskConfig } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import type { RunRecord, Store } from '../store/types.js';

export interface ClusterSlotsDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly instance: string;
  config(): Config;
  /**
   * Is the store shared by a fleet? On a host's own store (SQLite) the host is the whole fleet:
   * its fires are its own and nothing is claimed.
   */
  readonly shared: boolean;
  /** May this daemon claim slots now (registered in the fleet, store reachable)? */
  canClaim(): boolean;
}

const key = (task: string, slot: number) => `${task}@${slot}`;

export class ClusterSlots {
  /** Slots this instance holds → the run executing each. */
  readonly #held = new Map<string, number>();
  #claimFailure: string | null = null;

  constructor(private readonly d: ClusterSlotsDeps) {}

  /**
   * Of these fires of a cluster task, the ones this host won. The rest are another host's:
   * this host's last fire moves past them, so it never owes them a catch-up.
   */
  async claim(task: TaskConfig, fires: readonly number[]): Promise<number[]> {
    if (!this.d.shared || task.scope !== 'cluster' || fires.length === 0) return [...fires];
    const config = this.d.config();
    const won: number[] = [];
    let lost = -Infinity;
    if (this.d.canClaim()) {
      try {
        for (const slot of fires) {
          const claim = await this.d.store.claimSlot({
            task: task.id,
            slot,
            host: config.host,
            instance: this.d.instance,
            now: this.d.clock.now(),
            leaseMs: config.fleet.leaseMs,
          });
          if (claim) won.push(slot);
          else lost = Math.max(lost, slot);
        }
        this.#claimFailure = null;
      } catch (err) {
        const why = (err as Error).message.split('\n')[0]!;
        if (this.#claimFailure !== why)
          this.d.logger.error({ task: task.id }, `${task.id}: cluster slots cannot be claimed: ${why}`);
        this.#claimFailure = why;
        return won;
      }
    } else {
      lost = Math.max(...fires);
    }
    if (lost > -Infinity) await this.d.store.claimFire(task.id, config.host, lost);
    return won;
  }

  /** A run now executes the slot (a queued run, a retry, a takeover's rerun). */
  async attached(task: TaskConfig, run: RunRecord): Promise<void> {
    if (!this.d.shared || task.scope !== 'cluster' || run.scheduledFor === null) return;
    this.#held.set(key(task.id, run.scheduledFor), run.id);
    await this.d.store.attachRun(task.id, run.scheduledFor, this.d.instance, run.id);
  }

  /** Holds an adopted slot whose run is still queued here (after a restart). */
  hold(task: string, slot: number, runId: number): void {
    this.#held.set(key(task, slot), runId);
  }

  /** The run of a held slot reached its final word (not retrying): the slot is done. */
  finished(run: RunRecord, retrying: boolean): void {
    if (retrying || run.scheduledFor === null) return;
    const k = key(run.task, run.scheduledFor);
    if (this.#held.get(k) !== run.id) return;
    this.#held.delete(k);
    const outcome =
      run.status === 'skipped' || run.status === 'cancelled'
        ? ({ state: 'skipped', reason: run.reason } as const)
        : ({ state: 'done' } as const);
    this.d.store
      .releaseSlot(run.task, run.scheduledFor, this.d.instance, outcome)
      .catch((err: unknown) =>
        this.d.logger.error(
          { task: run.task, run: run.id },
          `could not release the cluster slot of run #${run.id}: ${(err as Error).message}`,
        ),
      );
  }

  /** A won slot that will not run (overlap, missed, coalesced): ended as skipped. */
  async skipped(task: TaskConfig, slot: number, reason: string): Promise<void> {
    if (!this.d.shared || task.scope !== 'cluster') return;
    this.#held.delete(key(task.id, slot));
    await this.d.store.releaseSlot(task.id, slot, this.d.instance, { state: 'skipped', reason });
  }

  /** The slot was taken over by another host (fencing): forget it. */
  forget(task: string, slot: number): number | undefined {
    const k = key(task, slot);
    const runId = this.#held.get(k);
    this.#held.delete(k);
    return runId;
  }
}
