/**
 * The composite prune of any store: each role prunes what it owns, at one cutoff.
 *
 * The cutoff is the start of a UTC day. The daily statistics cannot forget part of a day, so if
 * runs went by the exact instant `now - keepDays` while their day's statistics stayed, metrics
 * would keep counting runs that history no longer has (up to a day of them after every prune).
 * By whole days, what `metrics` counts and what `history` keeps start at the same instant;
 * nothing younger than `keepDays` ever goes, and up to one day more than that may stay.
 *
 * `keepRunsPerTask` trims only the detailed runs: the statistics keep counting those runs until
 * their day ages out, which is what the rollup is for (a task running every minute keeps 1,000
 * runs of history, and still has 90 days of success rates and percentiles).
 */
import type {
  AlertsStore,
  FleetStore,
  PruneOptions,
  PruneResult,
  RunsStore,
  SamplesStore,
  StatsStore,
} from './types.js';

const DAY_MS = 86_400_000;

/** The first UTC day (days since the epoch) that a prune with these options keeps. */
export function firstKeptDay(now: number, keepDays: number): number {
  return Math.floor((now - keepDays * DAY_MS) / DAY_MS);
}

export async function pruneStore(
  store: RunsStore & StatsStore & SamplesStore & AlertsStore & FleetStore,
  o: PruneOptions,
): Promise<PruneResult> {
  const day = firstKeptDay(o.now, o.keepDays);
  const before = day * DAY_MS;
  const runsDeleted = await store.pruneRuns({ before, keepRunsPerTask: o.keepRunsPerTask });
  const statsDeleted = await store.pruneStats(day);
  const samplesDeleted = (await store.pruneSamples(before)) + (await store.pruneAlerts(before));
  // Ended claims of slots past the cutoff; a held one stays, whatever its age (its run goes on).
  const claimsDeleted = await store.pruneClaims(before);
  return { runsDeleted, statsDeleted, samplesDeleted, claimsDeleted };
}
