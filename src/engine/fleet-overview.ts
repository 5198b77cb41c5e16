/**
 * The fleet as `caretaker hosts` shows it: every host that registered in the store, whether it
 * is up, lost (silent past its lease) or stopped, and what it is running now.
 */
import type { FleetStore, HostRecord, RunsStore } from '../store/types.js';

export type HostState = 'up' | 'lost' | 'stopped';

export interface HostSummary extends HostRecord {
  readonly state: HostState;
  /** Runs recorded as running on the host now. */
  readonly running: number;
}

export function hostState(host: HostRecord, now: number): HostState {
  if (host.stoppedAt !== null) return 'stopped';
  return now > host.lastSeenAt + host.leaseMs ? 'lost' : 'up';
}

export async function fleetOverview(store: FleetStore & RunsStore, now: number): Promise<HostSummary[]> {
  const hosts = await store.listHosts();
  const running = new Map<string, number>();
  for (const run of await store.listRuns({ statuses: ['running'], limit: 100_000 }))
    running.set(run.host, (running.get(run.host) ?? 0) + 1);
  return hosts
    .map((h) => ({ ...h, state: hostState(h, now), running: running.get(h.name) ?? 0 }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
