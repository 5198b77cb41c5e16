/**
 * Which hosts of a fleet claim a cluster slot first. Every host computes the same answer from
 * the same inputs (rendezvous hashing of the slot over the live host names): the first
 * `SLOT_CANDIDATES` hosts by the hash of (task, slot, host) claim at the slot's instant; the
 * others ask only after `fallbackDelayMs`, when the candidates' claim is long committed (their
 * insert then meets a committed row and waits for nobody) — or, if every candidate died, takes
 * the slot. So a fleet of hundreds of hosts does not send hundreds of claims at every slot's
 * instant, and cluster work spreads over the hosts. Who claims never decides who *may*: the
 * store's unique (task, slot) row does that, whoever asks.
 */
import { fnv1a } from './stable-hash.js';

/** Hosts that claim a slot at its instant: two, so one dead host costs no delay. */
export const SLOT_CANDIDATES = 2;
/** The others ask this long after the slot, plus a spread of up to FALLBACK_SPREAD_MS. */
export const FALLBACK_AFTER_MS = 2_000;
export const FALLBACK_SPREAD_MS = 1_000;

/**
 * Is `me` among the first candidates for the slot, of `hosts` (the live host names; `me` counts
 * even if it is not among them yet)? An empty list (the fleet not yet read) makes every host a
 * candidate.
 */
export function isSlotCandidate(task: string, slot: number, me: string, hosts: readonly string[]): boolean {
  if (hosts.length === 0) return true;
  const mine = fnv1a(`${task}\u0000${slot}\u0000${me}`);
  let above = 0;
  for (const h of hosts) {
    if (h === me) continue;
    const theirs = fnv1a(`${task}\u0000${slot}\u0000${h}`);
    // Ties (rare) go to the smaller name, so every host ranks alike.
    if (theirs > mine || (theirs === mine && h < me)) above++;
    if (above >= SLOT_CANDIDATES) return false;
  }
  return true;
}

/** How long after the slot a host that is not a candidate asks for it (stable per host). */
export function fallbackDelayMs(me: string): number {
  return FALLBACK_AFTER_MS + (fnv1a(`fallback\u0000${me}`) % FALLBACK_SPREAD_MS);
}
