/**
 * The fleet's tables as rows, and their records, for both stores (the same columns on SQLite
 * and PostgreSQL). A host's tasks are JSON text on SQLite and jsonb (read as an array) on
 * PostgreSQL.
 */
import type { ClaimRecord, ClaimState, HostRecord, SlotKey } from './types.js';

export interface HostRow {
  name: string;
  instance: string;
  version: string;
  pid: number;
  started_at: number;
  last_seen_at: number;
  lease_ms: number;
  tasks: string | string[];
  stopped_at: number | null;
}

export const toHost = (r: HostRow): HostRecord => ({
  name: r.name,
  instance: r.instance,
  version: r.version,
  pid: r.pid,
  startedAt: r.started_at,
  lastSeenAt: r.last_seen_at,
  leaseMs: r.lease_ms,
  tasks: typeof r.tasks === 'string' ? (JSON.parse(r.tasks) as string[]) : r.tasks,
  stoppedAt: r.stopped_at,
});

export interface ClaimRow {
  task: string;
  slot: number;
  host: string;
  instance: string;
  run_id: number | null;
  claimed_at: number;
  lease_until: number;
  state: string;
  takeovers: number;
  reason: string | null;
}

export const toClaim = (r: ClaimRow): ClaimRecord => ({
  task: r.task,
  slot: r.slot,
  host: r.host,
  instance: r.instance,
  runId: r.run_id,
  claimedAt: r.claimed_at,
  leaseUntil: r.lease_until,
  state: r.state as ClaimState,
  takeovers: r.takeovers,
  reason: r.reason,
});

/**
 * Slots in the one order every host claims them in (task by code unit, then slot): hosts that
 * claim overlapping sets of slots take their row locks in the same order, so none waits on
 * another that waits on it.
 */
export function sortSlots(slots: readonly SlotKey[]): SlotKey[] {
  return [...slots].sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : a.slot - b.slot));
}
