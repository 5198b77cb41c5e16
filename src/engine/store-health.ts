/**
 * Whether the store can be reached right now, for whoever must not act without it: cluster tasks
 * are claimed through the store, so the engine claims none while `reachable` is false (host tasks
 * go on; their history waits in the spool). Implemented by StoreBacklog; a store without one
 * (SQLite, a read-only CLI) is always reachable.
 */
export interface StoreHealth {
  /** False from the first failed call to an unreachable store until its waiting writes are in. */
  readonly reachable: boolean;
  /** Since when it is unreachable (ms since the epoch), or null. */
  readonly unreachableSince: number | null;
  /** Writes waiting for the store. */
  readonly waiting: number;
  /** Told on every change; returns the unsubscribe. */
  onChange(fn: (reachable: boolean) => void): () => void;
}

export const ALWAYS_REACHABLE: StoreHealth = {
  reachable: true,
  unreachableSince: null,
  waiting: 0,
  onChange: () => () => {},
};
