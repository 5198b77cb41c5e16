/**
 * The fleet role under real concurrency on PostgreSQL: ten stores (ten connection pools, as ten
 * hosts would have) on one schema race for the same claims, takeovers and host name. Each
 * decision must have exactly one winner, with no lock of our own: only the statements' own.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../src/store/postgres/pg-store.js';
import { PG_URL, needPostgres } from '../support/services.js';
import { T0 } from './conformance/harness.js';

const noPostgres = await needPostgres();

const HOSTS = 10;
const LEASE = 15_000;

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** Fisher-Yates, so every host asks for the slots in its own order. */
function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe.skipIf(noPostgres !== undefined)('fleet role on PostgreSQL under concurrency', () => {
  const schema = `ct_race_${randomBytes(6).toString('hex')}`;
  let stores: PgStore[] = [];
  let failed = false;

  beforeAll(async () => {
    stores = await Promise.all(
      Array.from({ length: HOSTS }, () => PgStore.open({ url: PG_URL, schema, maxConnections: 4 })),
    );
    // Every pool holds open connections before the races start, so they start together.
    await Promise.all(stores.flatMap((s) => Array.from({ length: 4 }, () => s.listHosts())));
  });

  afterEach(({ task }) => {
    if (task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    // Left behind for a look when something failed (like pg-boss does).
    if (!failed) await dropSchema(schema);
    else console.log(`  schema ${schema} kept for inspection`);
  });

  it('ten hosts claiming the same 200 slots at once: each slot is claimed exactly once', async () => {
    const slots = Array.from({ length: 200 }, (_, i) => T0 + i * 1_000);
    const started = performance.now();
    const results = await Promise.all(
      stores.map((store, h) =>
        Promise.all(
          shuffled(slots).map(async (slot) => ({
            h,
            slot,
            won: await store.claimSlot({
              task: 'race',
              slot,
              host: `h${h}`,
              instance: `i${h}`,
              now: T0,
              leaseMs: LEASE,
            }),
          })),
        ),
      ),
    );
    const ms = performance.now() - started;
    const wins = results.flat().filter((r) => r.won !== undefined);
    console.log(
      `  ${HOSTS * slots.length} concurrent claims in ${ms.toFixed(0)} ms; winners per host: ${stores
        .map((_, h) => wins.filter((w) => w.h === h).length)
        .join(' ')}`,
    );
    expect(wins).toHaveLength(slots.length);
    expect(new Set(wins.map((w) => w.slot)).size).toBe(slots.length);
    // What each winner was told is what the table holds.
    const rows = await stores[0]!.sql<{ slot: number; instance: string }>(
      `SELECT slot, instance FROM $S.claims WHERE task = 'race'`,
    );
    expect(rows).toHaveLength(slots.length);
    const holder = new Map(rows.map((r) => [r.slot, r.instance]));
    for (const w of wins) expect(holder.get(w.slot)).toBe(`i${w.h}`);
    // More than one host won some: the race was real, not serialized by the test.
    expect(new Set(wins.map((w) => w.h)).size).toBeGreaterThan(1);
  });

  it('ten hosts claiming overlapping sets of slots in batches, each in its own order: each slot once, no deadlock', async () => {
    // 20 tasks × 10 slots; each host asks for a random half of them, in 5 batches, shuffled:
    // the store sorts each batch, so two hosts never wait on each other's rows (PostgreSQL would
    // abort one of them with a deadlock error after deadlock_timeout otherwise).
    const all = Array.from({ length: 20 }, (_, t) =>
      Array.from({ length: 10 }, (_, i) => ({ task: `batch-${t}`, slot: T0 + i * 1_000 })),
    ).flat();
    const started = performance.now();
    const results = await Promise.all(
      stores.map(async (store, h) => {
        const mine = shuffled(all).slice(0, all.length / 2);
        const won: { task: string; slot: number }[] = [];
        for (let b = 0; b < 5; b++) {
          const batch = mine.slice((b * mine.length) / 5, ((b + 1) * mine.length) / 5);
          won.push(
            ...(await store.claimSlots({
              slots: batch,
              host: `h${h}`,
              instance: `i${h}`,
              now: T0,
              leaseMs: LEASE,
            })),
          );
        }
        return { h, asked: mine, won };
      }),
    );
    const ms = performance.now() - started;
    const wins = results.flatMap((r) => r.won.map((k) => ({ ...k, h: r.h })));
    console.log(
      `  ${HOSTS * 5} concurrent batch claims of ${all.length / 10} slots each in ${ms.toFixed(0)} ms`,
    );
    const asked = new Set(results.flatMap((r) => r.asked.map((k) => `${k.task}@${k.slot}`)));
    expect(new Set(wins.map((w) => `${w.task}@${w.slot}`)).size).toBe(wins.length);
    expect(wins).toHaveLength(asked.size);
    const rows = await stores[0]!.sql<{ task: string; slot: number; instance: string }>(
      `SELECT task, slot, instance FROM $S.claims WHERE task LIKE 'batch-%'`,
    );
    const holder = new Map(rows.map((r) => [`${r.task}@${Number(r.slot)}`, r.instance]));
    expect(holder.size).toBe(asked.size);
    for (const w of wins) expect(holder.get(`${w.task}@${w.slot}`)).toBe(`i${w.h}`);
    expect(new Set(wins.map((w) => w.h)).size).toBeGreaterThan(1);
  });

  it('ten hosts taking over one expired claim at once: exactly one wins', async () => {
    for (let round = 0; round < 20; round++) {
      const slot = T0 + 10_000_000 + round;
      await stores[0]!.claimSlot({
        task: 'takeover',
        slot,
        host: 'h0',
        instance: 'dead',
        now: T0,
        leaseMs: LEASE,
      });
      const now = T0 + LEASE + 1;
      const won = await Promise.all(
        stores.map((store, h) =>
          store.takeOver({
            task: 'takeover',
            slot,
            fromInstance: 'dead',
            host: `h${h}`,
            instance: `i${h}`,
            now,
            leaseMs: LEASE,
            reason: 'taken over from h0',
            skip: h % 2 === 1,
          }),
        ),
      );
      const winners = won.flatMap((w, h) => (w ? [{ h, w }] : []));
      expect(winners).toHaveLength(1);
      const { h, w } = winners[0]!;
      expect(await stores[0]!.getClaim('takeover', slot)).toEqual(w);
      expect(w).toMatchObject({ instance: `i${h}`, takeovers: 1, state: h % 2 === 1 ? 'skipped' : 'held' });
    }
    // The dead holder, back, hears of each lost claim once.
    await stores[0]!.registerHost({
      name: 'h0',
      instance: 'dead',
      version: 't',
      pid: 1,
      tasks: [],
      leaseMs: LEASE,
      now: T0 + LEASE + 2,
    });
    expect((await stores[0]!.heartbeat('h0', 'dead', T0 + LEASE + 3)).lost).toHaveLength(20);
    expect((await stores[1]!.heartbeat('h0', 'dead', T0 + LEASE + 4)).lost).toHaveLength(0);
  });

  it('ten daemons registering one host name at once: exactly one gets it', async () => {
    const results = await Promise.all(
      stores.map((store, h) =>
        store.registerHost({
          name: 'web-1',
          instance: `i${h}`,
          version: 't',
          pid: 100 + h,
          tasks: [],
          leaseMs: LEASE,
          now: T0,
        }),
      ),
    );
    const ok = results.flatMap((r, h) => (r.ok ? [h] : []));
    expect(ok).toHaveLength(1);
    for (const r of results) if (!r.ok) expect(r.holder).toMatchObject({ instance: `i${ok[0]}` });
    expect((await stores[0]!.listHosts()).filter((x) => x.name === 'web-1')).toMatchObject([
      { instance: `i${ok[0]}`, pid: 100 + ok[0]! },
    ]);
  });

  it('a restarted daemon adopting its claims while other hosts take them over: each claim goes to one', async () => {
    let adopted = 0;
    for (let round = 0; round < 40; round++) {
      const slot = T0 + 30_000_000 + round;
      const name = `restart-${round}`;
      await stores[0]!.claimSlot({
        task: 'adopt',
        slot,
        host: name,
        instance: 'crashed',
        now: T0,
        leaseMs: LEASE,
      });
      const now = T0 + LEASE + 1;
      const [mine, ...tries] = await Promise.all([
        stores[0]!.adoptClaims(name, `new-${round}`, now, LEASE),
        ...stores.slice(1).map((store, h) =>
          store.takeOver({
            task: 'adopt',
            slot,
            fromInstance: 'crashed',
            host: `h${h}`,
            instance: `t${h}`,
            now,
            leaseMs: LEASE,
            reason: `taken over from ${name}`,
          }),
        ),
      ]);
      const winners = [...mine, ...tries.filter((t) => t !== undefined)];
      expect(winners).toHaveLength(1);
      expect(await stores[0]!.getClaim('adopt', slot)).toEqual(winners[0]);
      if (mine.length === 1) adopted++;
    }
    console.log(`  adoption vs 9 takeovers, 40 rounds: adopted ${adopted}, taken over ${40 - adopted}`);
  });

  it('a late heartbeat racing takeovers: either the lease is renewed or the claim is lost and reported, never both', async () => {
    let renewed = 0;
    let taken = 0;
    for (let round = 0; round < 40; round++) {
      const slot = T0 + 20_000_000 + round;
      const name = `late-${round}`;
      const me = `late-i${round}`;
      await stores[0]!.registerHost({
        name,
        instance: me,
        version: 't',
        pid: 1,
        tasks: [],
        leaseMs: LEASE,
        now: T0,
      });
      await stores[0]!.claimSlot({ task: 'fence', slot, host: name, instance: me, now: T0, leaseMs: LEASE });
      const now = T0 + LEASE + 1; // expired, and its heartbeat arrives just now
      const [beat, ...tries] = await Promise.all([
        stores[0]!.heartbeat(name, me, now),
        ...stores.slice(1).map((store, h) =>
          store.takeOver({
            task: 'fence',
            slot,
            fromInstance: me,
            host: `h${h}`,
            instance: `t${h}`,
            now,
            leaseMs: LEASE,
            reason: `taken over from ${name}`,
          }),
        ),
      ]);
      const winners = tries.filter((t) => t !== undefined);
      expect(winners.length).toBeLessThanOrEqual(1);
      const claim = await stores[0]!.getClaim('fence', slot);
      if (winners.length === 0) {
        renewed++;
        expect(claim).toMatchObject({ instance: me, leaseUntil: now + LEASE, takeovers: 0 });
        expect(beat.lost).toEqual([]);
      } else {
        taken++;
        expect(claim).toMatchObject({ instance: winners[0]!.instance, takeovers: 1 });
        // Told now or at the next heartbeat, and only once.
        const next = await stores[0]!.heartbeat(name, me, now + 1);
        expect([...beat.lost, ...next.lost].map((c) => c.slot)).toEqual([slot]);
      }
    }
    console.log(`  late heartbeat vs 9 takeovers, 40 rounds: renewed first ${renewed}, taken over ${taken}`);
    expect(renewed + taken).toBe(40);
  });

  it('starts one run past a cap of 1 when ten hosts start runs of one group at once', async () => {
    for (let round = 0; round < 10; round++) {
      const runs = await Promise.all(
        stores.map((s, h) =>
          s.insertRun({
            task: `grp-${h % 3}`,
            host: `h${h}`,
            trigger: 'schedule',
            scheduledFor: T0 + round,
            notBefore: T0,
            queuedAt: T0,
            status: 'queued',
            attempt: 1,
            dryRun: false,
            pid: 1,
          }),
        ),
      );
      const started = await Promise.all(
        stores.map((s, h) =>
          s.startRunGuarded(runs[h]!.id, T0 + 1, 1, [
            { key: 'group:db', tasks: ['grp-0', 'grp-1', 'grp-2'], cap: 1, host: `h${h}`, local: 0 },
          ]),
        ),
      );
      expect(started.filter(Boolean)).toHaveLength(1);
      const running = await stores[0]!.listRuns({ statuses: ['running'], limit: 100 });
      expect(running).toHaveLength(1);
      // The round's winner finishes; the others are cancelled.
      for (const r of runs)
        await stores[0]!.finishRun(r.id, {
          status: r.id === running[0]!.id ? 'success' : 'cancelled',
          finishedAt: T0 + 2,
        });
    }
  });
});
