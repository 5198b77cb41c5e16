/**
 * Who claims a cluster slot first (rendezvous hashing over the live hosts): every host must
 * reach the same answer from the same list in any order, exactly SLOT_CANDIDATES hosts are
 * candidates for each slot, the slots spread over the hosts, and a host the list does not name
 * yet still counts itself.
 */
import { describe, expect, it } from 'vitest';
import {
  FALLBACK_AFTER_MS,
  FALLBACK_SPREAD_MS,
  SLOT_CANDIDATES,
  fallbackDelayMs,
  isSlotCandidate,
} from '../../src/core/slot-candidates.js';

const hosts = Array.from({ length: 12 }, (_, i) => `web-${i}`);
const T = Date.UTC(2026, 11, 6);

describe('cluster slot candidates', () => {
  it('names exactly the same SLOT_CANDIDATES hosts for a slot on every host, whatever the order of the list', () => {
    for (let k = 0; k < 200; k++) {
      const slot = T + k * 10_000;
      const task = `task-${k % 7}`;
      const chosen = hosts.filter((h) => isSlotCandidate(task, slot, h, hosts));
      expect(chosen).toHaveLength(SLOT_CANDIDATES);
      const reversed = [...hosts].reverse();
      expect(hosts.filter((h) => isSlotCandidate(task, slot, h, reversed))).toEqual(chosen);
    }
  });

  it('spreads the slots over the hosts', () => {
    const firsts = new Map<string, number>();
    const slots = 6_000;
    for (let k = 0; k < slots; k++)
      for (const h of hosts)
        if (isSlotCandidate('vacuum', T + k * 1_000, h, hosts)) firsts.set(h, (firsts.get(h) ?? 0) + 1);
    // Each host is a candidate for about SLOT_CANDIDATES / 12 of the slots (1,000 here).
    const expected = (slots * SLOT_CANDIDATES) / hosts.length;
    for (const h of hosts) {
      expect(firsts.get(h) ?? 0).toBeGreaterThan(expected * 0.8);
      expect(firsts.get(h) ?? 0).toBeLessThan(expected * 1.2);
    }
  });

  it('makes every host a candidate before the fleet was read, and counts a host the list does not name yet', () => {
    expect(isSlotCandidate('vacuum', T, 'web-1', [])).toBe(true);
    // A new host not yet in the list ranks itself against the list as if it were in it.
    const newcomers = Array.from({ length: 100 }, (_, i) => `new-${i}`);
    for (const n of newcomers)
      expect(isSlotCandidate('vacuum', T, n, hosts)).toBe(isSlotCandidate('vacuum', T, n, [...hosts, n]));
    expect(newcomers.some((n) => isSlotCandidate('vacuum', T, n, hosts))).toBe(true);
    expect(newcomers.some((n) => !isSlotCandidate('vacuum', T, n, hosts))).toBe(true);
    const chosen = hosts.filter((h) => isSlotCandidate('vacuum', T, h, hosts));
    // Two hosts or fewer: both are always candidates.
    expect(isSlotCandidate('vacuum', T, 'a', ['a', 'b'])).toBe(true);
    expect(isSlotCandidate('vacuum', T, 'b', ['a', 'b'])).toBe(true);
    expect(chosen).toHaveLength(SLOT_CANDIDATES);
  });

  it('gives each host a stable fallback delay within the spread', () => {
    const delays = hosts.map(fallbackDelayMs);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(FALLBACK_AFTER_MS);
      expect(d).toBeLessThan(FALLBACK_AFTER_MS + FALLBACK_SPREAD_MS);
    }
    expect(hosts.map(fallbackDelayMs)).toEqual(delays);
    expect(new Set(delays).size).toBeGreaterThan(hosts.length / 2);
  });
});
