/**
 * The fleet role (FleetStore): hosts and their heartbeats, cluster slot claims under leases,
 * takeovers of the claims of a host that went silent, and what the old holder is told.
 */
import { describe, expect, it } from 'vitest';
import type { FleetStore, HostRegistration, RunsStore } from '../../../src/store/types.js';
import { T0, fresh, type StoreFactory } from './harness.js';

const LEASE = 15_000;
const SLOT = T0 + 3 * 3_600_000;

export const host = (over: Partial<HostRegistration> = {}): HostRegistration => ({
  name: 'web-1',
  instance: 'i-a',
  version: '0.1.0',
  pid: 4242,
  tasks: ['rotate-logs', 'vacuum'],
  leaseMs: LEASE,
  now: T0,
  ...over,
});

export const claim = (over: Partial<Parameters<FleetStore['claimSlot']>[0]> = {}) => ({
  task: 'vacuum',
  slot: SLOT,
  host: 'web-1',
  instance: 'i-a',
  now: T0,
  leaseMs: LEASE,
  ...over,
});

export const takeOver = (over: Partial<Parameters<FleetStore['takeOver']>[0]> = {}) => ({
  task: 'vacuum',
  slot: SLOT,
  fromInstance: 'i-a',
  host: 'web-2',
  instance: 'i-b',
  now: T0 + LEASE + 1,
  leaseMs: LEASE,
  reason: 'taken over from web-1 (silent for 15s)',
  ...over,
});

export function describeFleetConformance(
  name: string,
  make: StoreFactory<FleetStore & Pick<RunsStore, 'taskStates'>>,
): void {
  describe(`fleet role: ${name}`, () => {
    describe('hosts', () => {
      it('registers a host and lists it with everything it registered', async () => {
        const store = await fresh(make);
        expect(await store.listHosts()).toEqual([]);
        expect(await store.registerHost(host())).toEqual({ ok: true });
        await store.registerHost(host({ name: 'db-1', instance: 'i-d', tasks: [] }));
        expect(await store.listHosts()).toEqual([
          {
            name: 'db-1',
            instance: 'i-d',
            version: '0.1.0',
            pid: 4242,
            startedAt: T0,
            lastSeenAt: T0,
            leaseMs: LEASE,
            tasks: [],
            stoppedAt: null,
          },
          {
            name: 'web-1',
            instance: 'i-a',
            version: '0.1.0',
            pid: 4242,
            startedAt: T0,
            lastSeenAt: T0,
            leaseMs: LEASE,
            tasks: ['rotate-logs', 'vacuum'],
            stoppedAt: null,
          },
        ]);
      });

      it('refuses a second daemon under a live host name and names the holder', async () => {
        const store = await fresh(make);
        await store.registerHost(host());
        await store.heartbeat('web-1', 'i-a', T0 + 10_000);
        // Silent for 14.999 s of a 15 s lease: still alive.
        const r = await store.registerHost(
          host({ instance: 'i-x', pid: 7, version: '9.9.9', now: T0 + 10_000 + LEASE - 1 }),
        );
        expect(r).toMatchObject({
          ok: false,
          holder: { name: 'web-1', instance: 'i-a', pid: 4242, version: '0.1.0', lastSeenAt: T0 + 10_000 },
        });
        // The refused daemon changed nothing.
        expect(await store.listHosts()).toMatchObject([
          { instance: 'i-a', pid: 4242, lastSeenAt: T0 + 10_000 },
        ]);
        expect((await store.heartbeat('web-1', 'i-x', T0 + 20_000)).registered).toBe(false);
      });

      it('takes over the name of a host silent past its lease', async () => {
        const store = await fresh(make);
        await store.registerHost(host());
        const now = T0 + LEASE; // lastSeenAt + leaseMs is not after now: lost
        expect(await store.registerHost(host({ instance: 'i-b', pid: 99, tasks: ['x'], now }))).toEqual({
          ok: true,
        });
        expect(await store.listHosts()).toMatchObject([
          { name: 'web-1', instance: 'i-b', pid: 99, startedAt: now, lastSeenAt: now, tasks: ['x'] },
        ]);
        // The old instance is told at its next heartbeat, and renews nothing.
        expect(await store.heartbeat('web-1', 'i-a', now + 1)).toEqual({ registered: false, lost: [] });
        expect(await store.listHosts()).toMatchObject([{ instance: 'i-b', lastSeenAt: now }]);
      });

      it('lets a new daemon have the name at once after a clean stop, and the same instance again', async () => {
        const store = await fresh(make);
        await store.registerHost(host());
        await store.unregisterHost('web-1', 'i-a', T0 + 1_000);
        expect(await store.listHosts()).toMatchObject([{ instance: 'i-a', stoppedAt: T0 + 1_000 }]);
        expect(await store.registerHost(host({ instance: 'i-b', now: T0 + 2_000 }))).toEqual({ ok: true });
        expect(await store.listHosts()).toMatchObject([
          { instance: 'i-b', stoppedAt: null, startedAt: T0 + 2_000 },
        ]);
        // A stop by an instance that no longer holds the name stops nothing.
        await store.unregisterHost('web-1', 'i-a', T0 + 3_000);
        expect(await store.listHosts()).toMatchObject([{ instance: 'i-b', stoppedAt: null }]);
        // The holder registering again (a reconnect) is no conflict.
        expect(await store.registerHost(host({ instance: 'i-b', now: T0 + 4_000 }))).toEqual({ ok: true });
      });

      it('heartbeats move lastSeenAt, and an unknown host is not registered', async () => {
        const store = await fresh(make);
        await store.registerHost(host());
        expect(await store.heartbeat('web-1', 'i-a', T0 + 5_000)).toEqual({ registered: true, lost: [] });
        expect(await store.listHosts()).toMatchObject([{ lastSeenAt: T0 + 5_000, startedAt: T0 }]);
        expect(await store.heartbeat('nobody', 'i-z', T0 + 5_000)).toEqual({ registered: false, lost: [] });
        expect(await store.listHosts()).toHaveLength(1);
      });
    });

    describe('claims', () => {
      it('the first host to claim a slot holds it; every later claim gets nothing', async () => {
        const store = await fresh(make);
        expect(await store.claimSlot(claim())).toEqual({
          task: 'vacuum',
          slot: SLOT,
          host: 'web-1',
          instance: 'i-a',
          runId: null,
          claimedAt: T0,
          leaseUntil: T0 + LEASE,
          state: 'held',
          takeovers: 0,
          reason: null,
        });
        expect(await store.claimSlot(claim({ host: 'web-2', instance: 'i-b', now: T0 + 1 }))).toBeUndefined();
        expect(await store.claimSlot(claim())).toBeUndefined();
        // Not even once the slot is done: a slot runs once.
        await store.releaseSlot('vacuum', SLOT, 'i-a', { state: 'done' });
        expect(await store.claimSlot(claim({ instance: 'i-b', now: T0 + LEASE * 10 }))).toBeUndefined();
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({ instance: 'i-a', state: 'done' });
        // Another slot, or another task's same slot, is a claim of its own.
        expect(await store.claimSlot(claim({ instance: 'i-b', slot: SLOT + 1 }))).toMatchObject({
          instance: 'i-b',
        });
        expect(await store.claimSlot(claim({ instance: 'i-b', task: 'backup' }))).toMatchObject({
          instance: 'i-b',
        });
        expect(await store.getClaim('nothing', SLOT)).toBeUndefined();
      });

      it("claims many slots in one call: the ones not yet claimed are won, the latest lost one is the host's last fire", async () => {
        const store = await fresh(make);
        await store.claimSlot(claim({ host: 'web-2', instance: 'i-b', slot: SLOT + 2 }));
        await store.claimSlot(claim({ host: 'web-2', instance: 'i-b', task: 'backup', slot: SLOT }));
        const many = (
          slots: { task: string; slot: number }[],
          over: { host?: string; instance?: string } = {},
        ) => store.claimSlots({ slots, host: 'web-1', instance: 'i-a', now: T0, leaseMs: LEASE, ...over });
        const won = await many([
          { task: 'vacuum', slot: SLOT + 2 },
          { task: 'vacuum', slot: SLOT },
          { task: 'backup', slot: SLOT },
          { task: 'vacuum', slot: SLOT + 1 },
          { task: 'backup', slot: SLOT + 1 },
        ]);
        expect(won).toEqual([
          { task: 'backup', slot: SLOT + 1 },
          { task: 'vacuum', slot: SLOT },
          { task: 'vacuum', slot: SLOT + 1 },
        ]);
        expect(await store.getClaim('vacuum', SLOT + 1)).toMatchObject({
          host: 'web-1',
          instance: 'i-a',
          state: 'held',
          claimedAt: T0,
          leaseUntil: T0 + LEASE,
        });
        expect(await store.getClaim('vacuum', SLOT + 2)).toMatchObject({ instance: 'i-b' });
        // The slots another host took are passed: this host owes no catch-up for them.
        const states = await store.taskStates('web-1');
        expect(states.get('vacuum')?.lastFire).toBe(SLOT + 2);
        expect(states.get('backup')?.lastFire).toBe(SLOT);
        // Claimed again, by anyone, nothing is won; an empty set asks nothing.
        expect(await many([{ task: 'vacuum', slot: SLOT + 1 }], { host: 'web-2', instance: 'i-b' })).toEqual(
          [],
        );
        expect((await store.taskStates('web-2')).get('vacuum')?.lastFire).toBe(SLOT + 1);
        expect(await many([])).toEqual([]);
      });

      it('scans in one call: the expired claims, and which of the slots asked about no host claimed', async () => {
        const store = await fresh(make);
        await store.claimSlot(claim());
        await store.claimSlot(claim({ slot: SLOT + 1, host: 'web-2', instance: 'i-b', now: T0 + 5 }));
        await store.releaseSlot('vacuum', SLOT + 1, 'i-b', { state: 'done' });
        const asked = [
          { task: 'vacuum', slot: SLOT + 2 },
          { task: 'vacuum', slot: SLOT + 1 },
          { task: 'backup', slot: SLOT },
          { task: 'vacuum', slot: SLOT },
        ];
        const inLease = await store.scanClaims(T0 + 1, asked);
        expect(inLease.expired).toEqual([]);
        expect(inLease.unclaimed).toEqual([
          { task: 'backup', slot: SLOT },
          { task: 'vacuum', slot: SLOT + 2 },
        ]);
        const after = await store.scanClaims(T0 + LEASE + 1, asked.slice(1, 2));
        expect(after.expired).toEqual(await store.expiredClaims(T0 + LEASE + 1));
        expect(after.expired.map((c) => [c.task, c.slot, c.instance])).toEqual([['vacuum', SLOT, 'i-a']]);
        expect(after.unclaimed).toEqual([]);
        expect(await store.scanClaims(T0 + LEASE + 1, [])).toEqual({ expired: after.expired, unclaimed: [] });
      });

      it('attaches the run and releases the claim as done or skipped, only for its holder', async () => {
        const store = await fresh(make);
        await store.claimSlot(claim());
        await store.claimSlot(claim({ slot: SLOT + 1 }));
        await store.attachRun('vacuum', SLOT, 'i-b', 77); // not its claim
        expect((await store.getClaim('vacuum', SLOT))?.runId).toBeNull();
        await store.attachRun('vacuum', SLOT, 'i-a', 12);
        expect((await store.getClaim('vacuum', SLOT))?.runId).toBe(12);
        await store.releaseSlot('vacuum', SLOT, 'i-b', { state: 'skipped', reason: 'not mine' });
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({ state: 'held', reason: null });
        await store.releaseSlot('vacuum', SLOT, 'i-a', { state: 'done' });
        await store.releaseSlot('vacuum', SLOT + 1, 'i-a', {
          state: 'skipped',
          reason: 'a dependency failed',
        });
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({
          state: 'done',
          runId: 12,
          reason: null,
        });
        expect(await store.getClaim('vacuum', SLOT + 1)).toMatchObject({
          state: 'skipped',
          reason: 'a dependency failed',
        });
        // An ended claim is never released again, nor attached, nor renewed, nor expired.
        await store.releaseSlot('vacuum', SLOT, 'i-a', { state: 'skipped', reason: 'late' });
        await store.attachRun('vacuum', SLOT, 'i-a', 13);
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({
          state: 'done',
          runId: 12,
          reason: null,
        });
        await store.registerHost(host());
        await store.heartbeat('web-1', 'i-a', T0 + 5_000);
        expect((await store.getClaim('vacuum', SLOT))?.leaseUntil).toBe(T0 + LEASE);
        expect(await store.expiredClaims(T0 + LEASE * 100)).toEqual([]);
      });

      it('a heartbeat renews every claim its instance holds, and only those', async () => {
        const store = await fresh(make);
        await store.registerHost(host({ leaseMs: 20_000 }));
        await store.claimSlot(claim({ slot: SLOT }));
        await store.claimSlot(claim({ slot: SLOT + 1, task: 'backup' }));
        await store.claimSlot(claim({ slot: SLOT + 2, host: 'web-2', instance: 'i-b' }));
        await store.heartbeat('web-1', 'i-a', T0 + 9_000);
        // To now + the host's lease.
        expect((await store.getClaim('vacuum', SLOT))?.leaseUntil).toBe(T0 + 29_000);
        expect((await store.getClaim('backup', SLOT + 1))?.leaseUntil).toBe(T0 + 29_000);
        expect((await store.getClaim('vacuum', SLOT + 2))?.leaseUntil).toBe(T0 + LEASE);
        // A daemon whose name another instance took renews nothing.
        await store.registerHost(host({ instance: 'i-c', now: T0 + 9_000 + 20_000 }));
        await store.heartbeat('web-1', 'i-a', T0 + 40_000);
        expect((await store.getClaim('vacuum', SLOT))?.leaseUntil).toBe(T0 + 29_000);
      });

      it('lists the held claims whose lease ended before now, oldest first', async () => {
        const store = await fresh(make);
        await store.claimSlot(claim({ slot: SLOT, now: T0 + 2_000 }));
        await store.claimSlot(claim({ slot: SLOT + 1, task: 'backup', now: T0 }));
        await store.claimSlot(claim({ slot: SLOT + 2, now: T0 + 5_000 }));
        await store.claimSlot(claim({ slot: SLOT + 3, now: T0 }));
        await store.releaseSlot('vacuum', SLOT + 3, 'i-a', { state: 'done' });
        expect(await store.expiredClaims(T0 + LEASE)).toEqual([]); // lease ends at now: not before it
        expect((await store.expiredClaims(T0 + LEASE + 1)).map((c) => [c.task, c.slot])).toEqual([
          ['backup', SLOT + 1],
        ]);
        expect((await store.expiredClaims(T0 + LEASE + 10_000)).map((c) => [c.task, c.slot])).toEqual([
          ['backup', SLOT + 1],
          ['vacuum', SLOT],
          ['vacuum', SLOT + 2],
        ]);
      });
    });

    describe('takeovers', () => {
      it('takes over an expired claim from the named instance: one more takeover, run cleared', async () => {
        const store = await fresh(make);
        await store.claimSlot(claim());
        await store.attachRun('vacuum', SLOT, 'i-a', 5);
        const now = T0 + LEASE + 1;
        expect(await store.takeOver(takeOver())).toEqual({
          task: 'vacuum',
          slot: SLOT,
          host: 'web-2',
          instance: 'i-b',
          runId: null,
          claimedAt: now,
          leaseUntil: now + LEASE,
          state: 'held',
          takeovers: 1,
          reason: 'taken over from web-1 (silent for 15s)',
        });
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({ instance: 'i-b', takeovers: 1 });
        // A second host trying the same takeover is too late; so is the first again.
        expect(await store.takeOver(takeOver({ host: 'web-3', instance: 'i-c' }))).toBeUndefined();
        expect(await store.takeOver(takeOver())).toBeUndefined();
        // The new holder is the one who attaches and releases now.
        await store.attachRun('vacuum', SLOT, 'i-b', 6);
        await store.releaseSlot('vacuum', SLOT, 'i-a', { state: 'done' });
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({ state: 'held', runId: 6 });
        expect(await store.expiredClaims(now + 1)).toEqual([]);
      });

      it('takes nothing over before the lease ended, from another instance, or once ended', async () => {
        const store = await fresh(make);
        await store.claimSlot(claim());
        expect(await store.takeOver(takeOver({ now: T0 + LEASE }))).toBeUndefined();
        expect(await store.takeOver(takeOver({ fromInstance: 'i-q' }))).toBeUndefined();
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({ instance: 'i-a', takeovers: 0 });
        await store.releaseSlot('vacuum', SLOT, 'i-a', { state: 'done' });
        expect(await store.takeOver(takeOver({ now: T0 + LEASE * 10 }))).toBeUndefined();
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({ instance: 'i-a', state: 'done' });
      });

      it('takes nothing over from a holder that renewed its lease', async () => {
        const store = await fresh(make);
        await store.registerHost(host());
        await store.claimSlot(claim());
        // Late, but before anyone took it: its heartbeat renews the lease.
        await store.heartbeat('web-1', 'i-a', T0 + LEASE + 500);
        expect(await store.takeOver(takeOver({ now: T0 + LEASE + 1_000 }))).toBeUndefined();
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({
          instance: 'i-a',
          leaseUntil: T0 + 2 * LEASE + 500,
        });
      });

      it('with skip, ends the slot as skipped with the reason instead of holding it', async () => {
        const store = await fresh(make);
        await store.claimSlot(claim());
        const r = await store.takeOver(takeOver({ skip: true, reason: 'holder web-1 lost; takeover: skip' }));
        expect(r).toMatchObject({
          state: 'skipped',
          host: 'web-2',
          instance: 'i-b',
          takeovers: 1,
          runId: null,
          reason: 'holder web-1 lost; takeover: skip',
        });
        expect(await store.getClaim('vacuum', SLOT)).toEqual(r);
        expect(await store.expiredClaims(T0 + LEASE * 100)).toEqual([]);
        expect(
          await store.takeOver(takeOver({ fromInstance: 'i-b', now: T0 + LEASE * 100 })),
        ).toBeUndefined();
      });

      it('tells the old holder at its heartbeat which claims it lost, once each', async () => {
        const store = await fresh(make);
        await store.registerHost(host());
        await store.claimSlot(claim({ slot: SLOT }));
        await store.claimSlot(claim({ slot: SLOT + 1 }));
        await store.claimSlot(claim({ slot: SLOT + 2 }));
        await store.takeOver(takeOver({ slot: SLOT + 1 }));
        await store.takeOver(takeOver({ slot: SLOT, skip: true, reason: 'skip' }));
        // Back after a network cut: it still holds the name (nobody took it) and hears what it lost.
        const beat = await store.heartbeat('web-1', 'i-a', T0 + LEASE + 2_000);
        expect(beat.registered).toBe(true);
        expect(beat.lost.map((c) => [c.slot, c.instance, c.state])).toEqual([
          [SLOT, 'i-b', 'skipped'],
          [SLOT + 1, 'i-b', 'held'],
        ]);
        // Each as the claim is now, exactly.
        expect(beat.lost).toEqual([
          await store.getClaim('vacuum', SLOT),
          await store.getClaim('vacuum', SLOT + 1),
        ]);
        // The claim nobody took is renewed, not lost.
        expect((await store.getClaim('vacuum', SLOT + 2))?.leaseUntil).toBe(T0 + 2 * LEASE + 2_000);
        expect((await store.heartbeat('web-1', 'i-a', T0 + LEASE + 3_000)).lost).toEqual([]);
      });

      it('tells a daemon whose host name was taken what it lost, and renews nothing of it', async () => {
        const store = await fresh(make);
        await store.registerHost(host());
        await store.claimSlot(claim({ slot: SLOT }));
        await store.claimSlot(claim({ slot: SLOT + 1 }));
        const now = T0 + LEASE + 1;
        await store.registerHost(host({ instance: 'i-b', now }));
        await store.takeOver(takeOver({ slot: SLOT, now }));
        const beat = await store.heartbeat('web-1', 'i-a', now + 1);
        expect(beat.registered).toBe(false);
        expect(beat.lost).toMatchObject([{ slot: SLOT, instance: 'i-b' }]);
        // Its other claim was not renewed: it expires, for another host to take over.
        expect(await store.getClaim('vacuum', SLOT + 1)).toMatchObject({
          instance: 'i-a',
          leaseUntil: T0 + LEASE,
        });
      });

      it('tells each holder a slot passed through, even when it changed hands again meanwhile', async () => {
        const store = await fresh(make);
        await store.claimSlot(claim());
        await store.takeOver(takeOver());
        await store.takeOver(
          takeOver({ fromInstance: 'i-b', host: 'web-3', instance: 'i-c', now: T0 + 2 * LEASE + 2 }),
        );
        const a = await store.heartbeat('web-1', 'i-a', T0 + 3 * LEASE);
        const b = await store.heartbeat('web-2', 'i-b', T0 + 3 * LEASE);
        expect(a.lost).toMatchObject([{ slot: SLOT, instance: 'i-c', takeovers: 2 }]);
        expect(b.lost).toMatchObject([{ slot: SLOT, instance: 'i-c', takeovers: 2 }]);
        expect((await store.heartbeat('web-1', 'i-a', T0 + 3 * LEASE + 1)).lost).toEqual([]);
        expect((await store.heartbeat('web-2', 'i-b', T0 + 3 * LEASE + 1)).lost).toEqual([]);
      });

      it('does not report a claim as lost to the instance that took it back', async () => {
        const store = await fresh(make);
        await store.claimSlot(claim());
        await store.takeOver(takeOver());
        const back = await store.takeOver(
          takeOver({ fromInstance: 'i-b', host: 'web-1', instance: 'i-a', now: T0 + 2 * LEASE + 2 }),
        );
        expect(back).toMatchObject({ instance: 'i-a', takeovers: 2 });
        expect((await store.heartbeat('web-1', 'i-a', T0 + 2 * LEASE + 3)).lost).toEqual([]);
        expect((await store.heartbeat('web-2', 'i-b', T0 + 2 * LEASE + 3)).lost).toMatchObject([
          { instance: 'i-a' },
        ]);
      });
    });

    describe('a restarted daemon adopting its claims', () => {
      it('takes back the held claims of its host name, renewed, and nothing another host holds', async () => {
        const store = await fresh(make);
        await store.claimSlot(claim({ slot: SLOT }));
        await store.attachRun('vacuum', SLOT, 'i-a', 9);
        await store.claimSlot(claim({ slot: SLOT + 1, task: 'backup' }));
        await store.claimSlot(claim({ slot: SLOT + 2 })); // taken over by web-2 below
        await store.claimSlot(claim({ slot: SLOT + 3 })); // done: stays done
        await store.releaseSlot('vacuum', SLOT + 3, 'i-a', { state: 'done' });
        await store.claimSlot(claim({ slot: SLOT + 4, host: 'web-2', instance: 'i-b' }));
        await store.takeOver(takeOver({ slot: SLOT + 2 }));
        const now = T0 + 20_000;
        const adopted = await store.adoptClaims('web-1', 'i-new', now, LEASE);
        expect(adopted.map((c) => [c.task, c.slot, c.instance, c.leaseUntil, c.runId])).toEqual([
          ['vacuum', SLOT, 'i-new', now + LEASE, 9],
          ['backup', SLOT + 1, 'i-new', now + LEASE, null],
        ]);
        expect(adopted[0]).toEqual(await store.getClaim('vacuum', SLOT));
        expect(await store.getClaim('vacuum', SLOT + 2)).toMatchObject({ host: 'web-2', instance: 'i-b' });
        expect(await store.getClaim('vacuum', SLOT + 3)).toMatchObject({ instance: 'i-a', state: 'done' });
        expect(await store.getClaim('vacuum', SLOT + 4)).toMatchObject({ instance: 'i-b' });
        // Its own claims are not adopted again; the old instance can no longer release them.
        expect(await store.adoptClaims('web-1', 'i-new', now + 1, LEASE)).toEqual([]);
        await store.releaseSlot('vacuum', SLOT, 'i-a', { state: 'done' });
        expect(await store.getClaim('vacuum', SLOT)).toMatchObject({ state: 'held', instance: 'i-new' });
        // And they are the new instance's to renew and to take over from.
        await store.registerHost(host({ instance: 'i-new', now }));
        await store.heartbeat('web-1', 'i-new', now + 5_000);
        expect((await store.getClaim('backup', SLOT + 1))?.leaseUntil).toBe(now + 5_000 + LEASE);
        // The earlier instance, if it was only cut off, hears at its heartbeat what it no longer holds.
        const old = await store.heartbeat('web-1', 'i-a', now + 6_000);
        expect(old.registered).toBe(false);
        expect(old.lost.map((c) => [c.task, c.slot, c.instance])).toEqual([
          ['vacuum', SLOT, 'i-new'],
          ['backup', SLOT + 1, 'i-new'],
          ['vacuum', SLOT + 2, 'i-b'],
        ]);
        expect((await store.heartbeat('web-1', 'i-a', now + 7_000)).lost).toEqual([]);
        expect(
          await store.takeOver(takeOver({ task: 'backup', slot: SLOT + 1, now: now + 50_000 })),
        ).toBeUndefined();
        expect(
          await store.takeOver(
            takeOver({ task: 'backup', slot: SLOT + 1, fromInstance: 'i-new', now: now + 50_000 }),
          ),
        ).toMatchObject({ instance: 'i-b', takeovers: 1 });
      });
    });

    describe('pruning', () => {
      it('deletes ended claims of slots before the cutoff and keeps held ones', async () => {
        const store = await fresh(make);
        const before = SLOT + 10;
        await store.claimSlot(claim({ slot: SLOT })); // done, old: goes
        await store.releaseSlot('vacuum', SLOT, 'i-a', { state: 'done' });
        await store.claimSlot(claim({ slot: SLOT + 1 })); // skipped, old: goes
        await store.releaseSlot('vacuum', SLOT + 1, 'i-a', { state: 'skipped', reason: 'x' });
        await store.claimSlot(claim({ slot: SLOT + 2 })); // held, old: stays
        await store.claimSlot(claim({ slot: before })); // done at the cutoff: stays
        await store.releaseSlot('vacuum', before, 'i-a', { state: 'done' });
        // Taken over and skipped: the old holder has not heard yet; the claim goes all the same.
        await store.claimSlot(claim({ slot: SLOT + 3 }));
        await store.takeOver(takeOver({ slot: SLOT + 3, skip: true }));
        expect(await store.pruneClaims(before)).toBe(3);
        expect(await store.getClaim('vacuum', SLOT)).toBeUndefined();
        expect(await store.getClaim('vacuum', SLOT + 1)).toBeUndefined();
        expect(await store.getClaim('vacuum', SLOT + 2)).toMatchObject({ state: 'held' });
        expect(await store.getClaim('vacuum', before)).toMatchObject({ state: 'done' });
        expect(await store.getClaim('vacuum', SLOT + 3)).toBeUndefined();
        expect((await store.heartbeat('web-1', 'i-a', T0 + 1)).lost).toEqual([]);
        expect(await store.pruneClaims(before)).toBe(0);
      });

      it('forgets hosts not heard from since the cutoff, and keeps the others', async () => {
        const store = await fresh(make);
        await store.registerHost(host({ name: 'old', instance: 'i-old', now: T0 }));
        await store.registerHost(host({ name: 'new', instance: 'i-new', now: T0 + 5_000 }));
        await store.pruneClaims(T0 + 1_000);
        expect((await store.listHosts()).map((h) => h.name)).toEqual(['new']);
      });
    });

    it("tells the store's own clock (to warn a host whose clock is off)", async () => {
      const store = await fresh(make);
      const before = Date.now();
      const t = await store.storeTime();
      // The same machine here: the store's clock and ours agree within the call.
      expect(t).toBeGreaterThanOrEqual(before - 50);
      expect(t).toBeLessThanOrEqual(Date.now() + 50);
    });
  });
}
