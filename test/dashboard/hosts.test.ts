/**
 * The overview's hosts panel on a fleet: two caretaker instances (hosts alpha and beta) on one
 * real PostgreSQL schema of the test's own, each recording real runs under its host name, and
 * the hosts registered and heartbeating in that store. The page, through the real routes
 * (fastify inject on the control socket's app), lists both hosts with their state, what each
 * runs now and its version, and `?host=NAME` shows that host's runs only; a store with one host
 * shows no hosts panel.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Caretaker } from '../../src/caretaker.js';
import { createCaretaker, defineAction, ManualClock } from '../../src/index.js';
import { buildApi } from '../../src/server/api.js';
import { PgStore } from '../../src/store/postgres/pg-store.js';
import { fleetSchema } from '../support/fleet.js';
import { needPostgres, PG_URL } from '../support/services.js';
import { tempDir } from '../support/tmp.js';

const noPostgres = await needPostgres();

const T0 = Date.UTC(2026, 11, 7, 12);
const LEASE = 30_000;

const noop = defineAction({
  name: 'noop',
  description: 'does nothing',
  schema: z.looseObject({}),
  async run() {
    return { ok: true, summary: 'nothing done' };
  },
});

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

function hostOf(schema: string, host: string, clock: ManualClock): Caretaker {
  const caretaker = createCaretaker({
    configText: `version: 1\nstore: ${PG_URL}\nstore_schema: ${schema}\nhost: ${host}\ntasks:\n  hello: { action: noop }\n`,
    baseDir: tempDir(`ct-dash-${host}-`),
    clock,
    actions: [noop],
  });
  open.push(caretaker);
  return caretaker;
}

async function fleetStore(schema: string): Promise<PgStore> {
  const store = await PgStore.open({ url: PG_URL, schema, maxConnections: 1 });
  open.push(store);
  return store;
}

const register = (store: PgStore, name: string, version: string, now: number) =>
  store.registerHost({
    name,
    instance: `${name}-1`,
    version,
    pid: 4242,
    tasks: ['hello'],
    leaseMs: LEASE,
    now,
  });

/** The hosts panel's rows as text: host, state, last seen, running, version. */
function hostRows(body: string): string[][] {
  const panel = /<section aria-labelledby="hosts-h">([\s\S]*?)<\/section>/.exec(body)?.[1] ?? '';
  return [...panel.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].slice(1).map((row) =>
    [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) =>
      c[1]!
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

/** How many runs the sparkline of `task` draws (its label says). */
function sparkRuns(body: string, task: string): number | null {
  const m = new RegExp(`durations of the last (\\d+) runs of ${task}`).exec(body);
  return m ? Number(m[1]) : null;
}

describe.skipIf(noPostgres !== undefined)('the overview on a fleet store', () => {
  it('lists both hosts with state, running runs and version; ?host= shows one host’s runs', async () => {
    const schema = fleetSchema();
    const clock = new ManualClock(T0);
    const alpha = hostOf(schema, 'alpha', clock);
    const beta = hostOf(schema, 'beta', clock);
    // Real runs recorded by each host: alpha 3, beta 1 (and one still running on beta).
    for (let i = 0; i < 3; i++) expect((await alpha.runNow('hello')).host).toBe('alpha');
    expect((await beta.runNow('hello')).host).toBe('beta');
    const store = await fleetStore(schema);
    expect(await register(store, 'alpha', '0.1.0', T0 - 60_000)).toEqual({ ok: true });
    expect(await register(store, 'beta', '0.0.9', T0 - 60_000)).toEqual({ ok: true });
    // alpha heartbeats now; beta last did a minute ago, past its 30 s lease: lost.
    expect((await store.heartbeat('alpha', 'alpha-1', T0)).registered).toBe(true);
    await store.insertRun({
      task: 'hello',
      host: 'beta',
      trigger: 'manual',
      scheduledFor: null,
      notBefore: T0,
      queuedAt: T0,
      status: 'running',
      startedAt: T0,
      attempt: 1,
      dryRun: false,
      pid: 4242,
    });

    const app = buildApi(alpha, { listener: 'socket' });
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h2 id="hosts-h">Hosts (2)</h2>');
    expect(hostRows(page.body)).toEqual([
      ['alpha', 'up', '2026-12-07 12:00:00 UTC', '0', '0.1.0'],
      ['beta', 'lost', '2026-12-07 11:59:00 UTC', '1', '0.0.9'],
    ]);
    expect(page.body).toContain('<a href="/?host=beta">beta</a>');
    // Every host's runs by default (3 + 1 finished; the running one has no duration yet).
    expect(sparkRuns(page.body, 'hello')).toBe(4);
    expect(sparkRuns((await app.inject({ method: 'GET', url: '/?host=alpha' })).body, 'hello')).toBe(3);
    expect(sparkRuns((await app.inject({ method: 'GET', url: '/?host=beta' })).body, 'hello')).toBe(1);
    const nowhere = await app.inject({ method: 'GET', url: '/?host=gamma' });
    expect(nowhere.body).toContain('no runs');
    await app.close();
  });

  it('shows no hosts panel while the store has one host', async () => {
    const schema = fleetSchema();
    const clock = new ManualClock(T0);
    const alpha = hostOf(schema, 'alpha', clock);
    await alpha.runNow('hello');
    const store = await fleetStore(schema);
    expect(await register(store, 'alpha', '0.1.0', T0)).toEqual({ ok: true });
    expect((await store.listHosts()).map((h) => h.name)).toEqual(['alpha']);
    const app = buildApi(alpha, { listener: 'socket' });
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h2 id="tasks-h">Tasks</h2>');
    expect(page.body).not.toContain('hosts-h');
    expect(page.body).not.toContain('Hosts (');
    expect(sparkRuns(page.body, 'hello')).toBe(1);
    await app.close();
  });
});
