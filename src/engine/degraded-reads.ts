/**
 * What the store's reads answer while the store cannot be reached: the last answer the store gave
 * to the same question (kept, bounded, for every read that succeeded), or an empty one. Runs and
 * incidents written meanwhile are laid over it by the backlog (store-backlog.ts): the engine and
 * the alerting go on with what caretaker itself knows, and host tasks keep running.
 */
import type { RecentRuns, Store } from '../store/types.js';

/** The reads a scheduler makes, each with its answer when nothing is known. */
const EMPTY: Readonly<Record<string, () => unknown>> = {
  getRun: () => undefined,
  listRuns: () => [],
  activeRuns: () => [],
  taskStates: () => new Map(),
  recentRuns: (): RecentRuns => ({ runs: 0, successes: 0, medianDurationMs: null }),
  lastRunsOfTasks: () => new Map(),
  dailyStats: () => [],
  sampleSeries: () => [],
  sampleKeys: () => [],
  openIncident: () => undefined,
  listIncidents: () => [],
  listDeliveries: () => [],
  wasDelivered: () => false,
  lastPings: () => new Map(),
  getMeta: () => undefined,
  listPauses: () => [],
};

export const READS = Object.keys(EMPTY) as (keyof Store)[];

/** Answers kept at most (the oldest go first), and of a list answer its first items only. */
const MAX_ANSWERS = 200;
const MAX_ITEMS = 100;

export class DegradedReads {
  readonly #answers = new Map<string, unknown>();
  readonly #told = new Set<string>();

  static #key(method: string, args: readonly unknown[]): string {
    return `${method}\u0000${JSON.stringify(args)}`;
  }

  /** A read the store answered. */
  remember(method: string, args: readonly unknown[], answer: unknown): void {
    const key = DegradedReads.#key(method, args);
    this.#answers.delete(key);
    // The newest first: a prefix of a list is still the latest of it (bounded memory per answer).
    this.#answers.set(
      key,
      Array.isArray(answer) && answer.length > MAX_ITEMS ? answer.slice(0, MAX_ITEMS) : answer,
    );
    if (this.#answers.size > MAX_ANSWERS) this.#answers.delete(this.#answers.keys().next().value!);
  }

  /** The last answer to this read, or the empty one; `first` is true once per method and outage. */
  answer(method: string, args: readonly unknown[]): { value: unknown; first: boolean } {
    const key = DegradedReads.#key(method, args);
    const first = !this.#told.has(method);
    this.#told.add(method);
    return { value: this.#answers.has(key) ? this.#answers.get(key) : EMPTY[method]!(), first };
  }

  /** The outage is over: the next one is told about again. */
  reset(): void {
    this.#told.clear();
  }
}
