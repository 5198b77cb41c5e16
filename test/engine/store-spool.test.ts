/**
 * The backlog in front of a real PostgreSQL store whose server a test of its own stops and
 * starts (test/support/private-postgres.ts): writes made while it is down are answered at once,
 * spooled to a SQLite file, and written in order, once, when it returns — also by the next
 * process after a restart, and also when a crash came between PostgreSQL's commit and the
 * spool's bookkeeping; reads made meanwhile answer from what is known; the grace period decides
 * whether an incident opens; `reachable` says what the engine may do.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { silentLogger } from '../../src/engine/silent-logger.js';
import { StoreBacklog } from '../../src/engine/store-backlog.js';
import { PgStore } from '../../src/store/postgres/pg-store.js';
import { StoreOpenError } from '../../src/store/store-open-error.js';
import { StoreUnavailableError } from '../../src/store/store-unavailable-error.js';
import { WriteSpool } from '../../src/store/write-spool.js';
import { advance } from '../support/clock-driver.js';
import {
  privatePostgresMissing,
  startPrivatePostgres,
  type PrivatePostgres,
} from '../support/private-postgres.js';
import { tempDir, waitUntil } from '../support/tmp.js';
import { queued, T0 } from '../store/conformance/harness.js';

const noPrivatePg = privatePostgresMissing();

function backlogOver(store: PgStore, spoolPath: string, clock: ManualClock) {
  const said: string[] = [];
  const incidents: string[] = [];
  const spool = new WriteSpool(spoolPath);
  const backlog = new StoreBacklog(store, {
    clock,
    logger: silentLogger(),
    say: (l) => said.push(l),
    alert: () => {},
    spool,
    storeLabel: `store ${store.displayUrl}`,
    reconnectEveryMs: 5_000,
    unavailableGraceMs: 60_000,
    incident: { open: (m) => incidents.push(`open: ${m}`), close: (m) => incidents.push(`close: ${m}`) },
  });
  return { backlog, store: backlog.store, said, incidents, spool };
}

/**
 * Moves the clock a reconnect interval at a time until the backlog has written everything: each
 * attempt is real I/O (a connection), so the next step waits for the last attempt to settle.
 */
async function reconnect(clock: ManualClock, backlog: StoreBacklog): Promise<void> {
  await waitUntil(
    async () => {
      await advance(clock, 1_000);
      await new Promise((r) => setTimeout(r, 20));
      return backlog.reachable && backlog.waiting === 0;
    },
    'the backlog to reach the store again',
    20_000,
  );
}

async function open(pg: PrivatePostgres, schema: string): Promise<PgStore> {
  return PgStore.open({ url: pg.url, schema });
}

describe.skipIf(noPrivatePg)('store backlog (PostgreSQL unreachable)', () => {
  it('spools writes while the server is down and writes them in order, once, when it returns', async () => {
    const pg = await startPrivatePostgres();
    const dir = tempDir('ct-spool-');
    const clock = new ManualClock(T0);
    const pgStore = await open(pg, 'spool_order');
    const t = backlogOver(pgStore, join(dir, 'store-spool.sqlite'), clock);
    const changes: boolean[] = [];
    t.backlog.onChange((reachable) => changes.push(reachable));
    const before = await t.store.insertRun(queued({ task: 'a' }));
    await t.store.startRun(before.id, T0 + 1, 1);
    expect(await t.store.activeRuns('h1')).toHaveLength(1);

    await pg.stop();
    // The run that started before the outage finishes in it; three more come and go.
    const done = await t.store.finishRun(before.id, { status: 'success', finishedAt: T0 + 2, durationMs: 1 });
    expect(done).toMatchObject({ id: before.id, status: 'success' });
    expect(t.backlog.reachable).toBe(false);
    expect(t.backlog.unreachableSince).toBe(T0);
    expect(changes).toEqual([false]);
    const made = [];
    for (let i = 1; i <= 3; i++) {
      const r = await t.store.insertRun(
        queued({ task: 'a', scheduledFor: T0 + i * 1000, queuedAt: T0 + i * 1000 }),
      );
      expect(r.id).toBeLessThan(0);
      await t.store.startRun(r.id, T0 + i * 1000, 1);
      made.push(
        await t.store.finishRun(r.id, { status: 'success', finishedAt: T0 + i * 1000 + 5, durationMs: 5 }),
      );
    }
    // Reads do not wait for the server: they answer from what is known.
    expect((await t.store.listRuns({ limit: 10, task: 'a' })).map((r) => r.id).slice(0, 3)).toEqual(
      made.map((r) => r.id).reverse(),
    );
    expect(await t.store.activeRuns('h1')).toEqual([]);
    expect((await t.store.recentRuns('a', 10)).runs).toBeGreaterThanOrEqual(0);
    expect(t.said.filter((l) => l.includes('unreachable'))).toHaveLength(1);
    expect(t.said[0]).toContain(`store postgres://postgres:***@127.0.0.1:${pg.port}/postgres unreachable (`);
    expect(t.said[0]).not.toContain('private-pg-secret');
    expect(t.backlog.waiting).toBe(10);

    await pg.start();
    await reconnect(clock, t.backlog);
    expect(t.said.at(-1)).toMatch(/reachable again after \d+s: 10 kept writes recorded$/);
    expect(changes).toEqual([false, true]);
    expect(t.backlog.unreachableSince).toBeNull();
    // Under the grace period: no incident.
    expect(t.incidents).toEqual([]);

    const rows = await pgStore.sql<{ id: number; scheduled_for: number; status: string }>(
      `SELECT id, scheduled_for, status FROM $S.runs ORDER BY id`,
    );
    expect(rows.map((r) => [r.scheduled_for, r.status])).toEqual([
      [T0, 'success'],
      [T0 + 1000, 'success'],
      [T0 + 2000, 'success'],
      [T0 + 3000, 'success'],
    ]);
    // The provisional ids the engine still holds reach the real rows.
    expect((await t.store.getRun(made[0]!.id))?.scheduledFor).toBe(T0 + 1000);
    expect(await t.backlog.store.listRuns({ limit: 10 })).toHaveLength(4);
    await t.backlog.close();
  }, 60_000);

  it('opens the store_unavailable incident after the grace period and closes it when the writes are in', async () => {
    const pg = await startPrivatePostgres();
    const clock = new ManualClock(T0);
    const t = backlogOver(await open(pg, 'spool_incident'), join(tempDir('ct-spool-'), 's.sqlite'), clock);
    await pg.stop();
    await t.store.insertRun(queued());
    await advance(clock, 59_000);
    expect(t.incidents).toEqual([]);
    await advance(clock, 1_000);
    expect(t.incidents).toHaveLength(1);
    expect(t.incidents[0]).toMatch(
      /^open: caretaker cannot reach store postgres:\/\/postgres:\*\*\*@.* since 2026-11-24T00:00:00\.000Z/,
    );
    await pg.start();
    await reconnect(clock, t.backlog);
    expect(t.incidents).toHaveLength(2);
    expect(t.incidents[1]).toMatch(
      /^close: store .* is reachable again after 1m \d+s: 1 kept write recorded$/,
    );
    await t.backlog.close();
  }, 60_000);

  it('keeps spooled writes across a restart and does not apply one twice after a crash between the commits', async () => {
    const pg = await startPrivatePostgres();
    const dir = tempDir('ct-spool-');
    const spoolPath = join(dir, 'store-spool.sqlite');
    const clock = new ManualClock(T0);
    const first = await open(pg, 'spool_restart');
    const t = backlogOver(first, spoolPath, clock);
    await pg.stop();
    const r = await t.store.insertRun(queued({ task: 'b' }));
    await t.store.finishRun(r.id, { status: 'failed', finishedAt: T0 + 9, exitCode: 3 });
    await t.backlog.close();
    expect(t.said.at(-1)).toContain(`2 history writes wait in ${spoolPath}`);

    // A crash right after PostgreSQL committed the first spooled write, before the spool knew.
    await pg.start();
    const second = await open(pg, 'spool_restart');
    const raw = new WriteSpool(spoolPath);
    const [insert] = raw.load().writes;
    await second.applyOnce(`${raw.spoolId}:${insert!.seq}`, () => second.insertRun(insert!.args[0] as never));
    raw.close();

    const again = backlogOver(second, spoolPath, clock);
    expect(again.backlog.waiting).toBe(2);
    expect(await again.backlog.flush()).toBe(true);
    const rows = await second.sql<{ task: string; status: string; exit_code: number }>(
      `SELECT task, status, exit_code FROM $S.runs`,
    );
    expect(rows).toEqual([{ task: 'b', status: 'failed', exit_code: 3 }]);
    expect(again.spool.load().writes).toEqual([]);
    // Each replayed write left its mark; pruning takes old marks away.
    expect(await second.sql(`SELECT key FROM $S.spool_applied`)).toHaveLength(2);
    await second.pruneAlerts(Date.now() + 60_000);
    expect(await second.sql(`SELECT key FROM $S.spool_applied`)).toEqual([]);
    await again.backlog.close();
  }, 60_000);

  it('tells an unreachable server from a wrong password when opening', async () => {
    const pg = await startPrivatePostgres();
    const wrong = await PgStore.open({ url: pg.wrongPasswordUrl }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(StoreOpenError);
    expect((wrong as Error).message).toContain('password authentication failed');
    expect((wrong as Error).message).not.toContain('not-the-password');
    await pg.stop();
    const down = await PgStore.open({ url: pg.url }).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(StoreUnavailableError);
    expect((down as Error).message).toBe(
      `store postgres://postgres:***@127.0.0.1:${pg.port}/postgres unreachable (ECONNREFUSED)`,
    );
  }, 60_000);
});
