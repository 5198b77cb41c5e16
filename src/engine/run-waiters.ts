/**
 * Who waits for which run to finish. A waiter that follows retries (a person who ran a task and
 * waits for its outcome) moves on to the retry when an attempt fails and a retry is queued, and
 * hears the final attempt; one that does not hears the attempt it asked for.
 */
import { NotFoundError } from '../errors/usage-error.js';
import type { RunRecord } from '../store/types.js';

interface Waiter {
  readonly follow: boolean;
  /** The run this waiter waits for now (moves along the retries it follows). */
  at: number;
  done: boolean;
  resolve(run: RunRecord): void;
}

/** Failed attempts and their retries remembered, for a follower that asks after the fact. */
const RETRIES_KEPT = 1_000;

export class RunWaiters {
  readonly #waiting = new Map<number, Set<Waiter>>();
  readonly #retriedAs = new Map<number, number>();
  /** Runs whose end is recorded but not yet told (a retry may still be queued for them). */
  readonly #settling = new Set<number>();

  constructor(private readonly getRun: (id: number) => Promise<RunRecord | undefined>) {}

  /** Resolves with the run's final record (with `follow`, of its last retry) once it finished. */
  async wait(runId: number, follow: boolean): Promise<RunRecord> {
    let resolve!: (run: RunRecord) => void;
    const pending = new Promise<RunRecord>((res) => (resolve = res));
    const waiter: Waiter = { follow, at: runId, done: false, resolve };
    // Registered before the store is read: a run finishing meanwhile is not missed.
    this.#add(waiter);
    const current = await this.getRun(runId);
    if (waiter.done || waiter.at !== runId) return pending;
    if (!current) {
      this.#remove(waiter);
      throw new NotFoundError(`run #${runId} does not exist`);
    }
    if (
      current.finishedAt === null ||
      current.status === 'queued' ||
      current.status === 'running' ||
      this.#settling.has(runId)
    )
      return pending;
    this.#remove(waiter);
    const retry = follow ? this.#retriedAs.get(runId) : undefined;
    return retry === undefined ? current : this.wait(retry, follow);
  }

  /**
   * A run's end is being recorded; whether it is retried is decided after. A waiter that asks
   * meanwhile reads a finished run from the store, and must wait for settled() all the same.
   */
  settling(runId: number): void {
    this.#settling.add(runId);
  }

  /** A run finished; `retry` is the run queued to retry it, if any. */
  settled(run: RunRecord, retry?: RunRecord): void {
    this.#settling.delete(run.id);
    if (retry) {
      this.#retriedAs.set(run.id, retry.id);
      if (this.#retriedAs.size > RETRIES_KEPT)
        this.#retriedAs.delete(this.#retriedAs.keys().next().value as number);
    }
    const waiters = this.#waiting.get(run.id);
    if (!waiters) return;
    this.#waiting.delete(run.id);
    for (const w of waiters) {
      if (retry && w.follow) {
        w.at = retry.id;
        this.#add(w);
      } else {
        w.done = true;
        w.resolve(run);
      }
    }
  }

  #add(w: Waiter): void {
    let set = this.#waiting.get(w.at);
    if (!set) this.#waiting.set(w.at, (set = new Set()));
    set.add(w);
  }

  #remove(w: Waiter): void {
    const set = this.#waiting.get(w.at);
    set?.delete(w);
    if (set?.size === 0) this.#waiting.delete(w.at);
  }
}
