/**
 * The slots of `scope: cluster` tasks that this daemon claimed: a scheduled fire of a cluster
 * task is acted on (queued, skipped, caught up) only by the host whose claim of (task, fire) was
 * first. The claim names the run executing it (each retry in turn) and ends, done or skipped,
 * with the slot's final word. Fires another host claimed only move this host's last fire on.
 */
import type { Logger } from 'pino';
import type { Config, TaskConfig } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { fallbackDelayMs, isSlotCandidate } from '../core/slot-candidates.js';
import type { RunRecord, SlotKey, Store } from '../store/types.js';

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
  /** The names of the fleet's live hosts, as last read (empty before the first read). */
  liveHosts(): readonly string[];
}

const key = (task: string, slot: number) => `${task}@${slot}`;

/** Of a task's fires due in a pass, the ones this host acts on (see ClusterSlots.claimAll). */
export type Won = (task: TaskConfig, fires: readonly number[]) => number[];

export const allWon: Won = (_task, fires) => [...fires];

/** None of these tasks' slots were won (the store could not be asked); other tasks' fires stand. */
function noneWon(wanted: readonly { readonly task: TaskConfig }[]): Won {
  const ids = new Set(wanted.map((d) => d.task.id));
  return (task, fires) => (ids.has(task.id) ? [] : [...fires]);
}

export class ClusterSlots {
  /** Slots this instance holds → the run executing each. */
  readonly #held = new Map<string, number>();
  /** Slots this host is not a first candidate for: asked for at their fallback time. */
  #deferred: { readonly task: string; readonly slot: number; readonly at: number }[] = [];
  #claimFailure: string | null = null;

  constructor(private readonly d: ClusterSlotsDeps) {}

  /**
   * Of the fires due in one pass, per task, the ones this host acts on now: every fire of a host
   * task; of a cluster task's, the slots this host won. Slots this host is a first candidate for
   * (see core/slot-candidates) are claimed at once, all in one statement; the others wait for
   * their fallback time (deferredDue, resolveDeferred). A slot lost to another host moves this host's last fire
   * past it (in the same statement), so it never owes it a catch-up.
   */
  async claimAll(
    due: readonly { readonly task: TaskConfig; readonly fires: readonly number[] }[],
    now: number,
  ): Promise<Won> {
    const wanted = due.filter((d) => this.d.shared && d.task.scope === 'cluster' && d.fires.length > 0);
    if (wanted.length === 0) return allWon;
    const config = this.d.config();
    if (!this.d.canClaim()) {
      for (const d of wanted) await this.d.store.claimFire(d.task.id, config.host, Math.max(...d.fires));
      return noneWon(wanted);
    }
    const hosts = this.d.liveHosts();
    const fallbackAt = fallbackDelayMs(config.host);
    const slots: SlotKey[] = [];
    for (const d of wanted)
      for (const slot of d.fires) {
        if (slot + fallbackAt <= now || isSlotCandidate(d.task.id, slot, config.host, hosts))
          slots.push({ task: d.task.id, slot });
        else this.#deferred.push({ task: d.task.id, slot, at: slot + fallbackAt });
      }
    const keys = await this.#claim(
      slots,
      wanted.map((d) => d.task.id),
    );
    if (!keys) return noneWon(wanted);
    return (task, fires) =>
      this.d.shared && task.scope === 'cluster' ? fires.filter((f) => keys.has(key(task.id, f))) : [...fires];
  }

  /**
   * The deferred slots whose fallback time came: the fleet member's every-second look asks the
   * store which of them no host claimed (in the statement it makes anyway), so the hosts that
   * are not first candidates send no claim of their own for a slot the candidates took.
   */
  deferredDue(now: number): SlotKey[] {
    return this.#deferred.filter((d) => d.at <= now).map((d) => ({ task: d.task, slot: d.slot }));
  }

  /**
   * The answer for slots asked about: all leave the deferred list; those no host claimed (their
   * candidates dead, not yet known lost) are claimed now, in one statement. Returns the won ones
   * by task.
   */
  async resolveDeferred(
    asked: readonly SlotKey[],
    unclaimed: readonly SlotKey[],
  ): Promise<Map<string, number[]>> {
    const done = new Set(asked.map((k) => key(k.task, k.slot)));
    this.#deferred = this.#deferred.filter((d) => !done.has(key(d.task, d.slot)));
    const won = new Map<string, number[]>();
    if (unclaimed.length === 0 || !this.d.canClaim()) return won;
    const keys = await this.#claim(unclaimed, [...new Set(unclaimed.map((k) => k.task))]);
    for (const k of unclaimed)
      if (keys?.has(key(k.task, k.slot))) won.set(k.task, [...(won.get(k.task) ?? []), k.slot]);
    return won;
  }

  /** One claimSlots statement: the keys won; undefined (logged once per cause) when it failed. */
  async #claim(slots: readonly SlotKey[], tasks: readonly string[]): Promise<Set<string> | undefined> {
    if (slots.length === 0) return new Set();
    const config = this.d.config();
    try {
      const won = await this.d.store.claimSlots({
        slots,
        host: config.host,
        instance: this.d.instance,
        now: this.d.clock.now(),
        leaseMs: config.fleet.leaseMs,
      });
      this.#claimFailure = null;
      return new Set(won.map((k) => key(k.task, k.slot)));
    } catch (err) {
      const why = (err as Error).message.split('\n')[0]!;
      if (this.#claimFailure !== why)
        this.d.logger.error({ tasks }, `${tasks.join(', ')}: cluster slots cannot be claimed: ${why}`);
      this.#claimFailure = why;
      return undefined;
    }
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
