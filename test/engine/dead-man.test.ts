/**
 * Dead-man watches on a manual clock: a job outside caretaker that does not report in by its
 * deadline raises `missed`; a ping recovers it; `--fail` reports a failure.
 */
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/notify/types.js';
import { harness, HOUR, MIN, T0, type Harness } from '../support/engine-harness.js';
import { httpServer, type Loopback } from '../support/loopback-servers.js';

async function setup(watch: string, extra = ''): Promise<{ h: Harness; hook: Loopback }> {
  const hook = await httpServer({ '/hook': (_q, res) => res.writeHead(200).end() });
  const h = await harness('  job: { action: gate }\n', {
    top: `notify:\n  - { type: webhook, url: "${hook.url}/hook", retries: 0 }\n${extra}watch:\n${watch}`,
  });
  return { h, hook };
}

async function events(h: Harness, hook: Loopback): Promise<string[]> {
  await h.settle();
  await h.ct.alertsIdle();
  return hook.received.map((r) => {
    const e = JSON.parse(r.body) as AlertEvent;
    return `${e.event} ${e.subject.kind}:${e.subject.id}`;
  });
}

describe('dead-man watches', () => {
  it('raises missed when no ping came within expect + grace, and recovers on the next ping', async () => {
    const { h, hook } = await setup('  offsite-sync: { expect: every 1h, grace: 10m, owner: storage }\n');
    await h.advanceTo(T0 + HOUR + 9 * MIN);
    expect(await events(h, hook)).toEqual([]);
    await h.advanceTo(T0 + HOUR + 10 * MIN);
    expect(await events(h, hook)).toEqual(['missed watch:offsite-sync']);
    const [w] = await h.ct.watches();
    expect(w).toMatchObject({ name: 'offsite-sync', state: 'missed', lastPing: null });

    const ping = await h.ct.ping('offsite-sync', { message: 'synced 3 GB' });
    expect(ping).toMatchObject({ ok: true, at: T0 + HOUR + 10 * MIN, message: 'synced 3 GB' });
    expect(await events(h, hook)).toEqual(['missed watch:offsite-sync', 'recovery watch:offsite-sync']);
    const [up] = await h.ct.watches();
    expect(up).toMatchObject({ state: 'up', deadline: T0 + 2 * HOUR + 20 * MIN });

    // Pinging on time keeps it quiet.
    await h.advanceTo(T0 + 2 * HOUR);
    await h.ct.ping('offsite-sync');
    await h.advanceTo(T0 + 3 * HOUR);
    expect(await events(h, hook)).toHaveLength(2);
    await h.stop();
  });

  it('a --fail ping raises a failure at once; a cron expectation is due after each fire', async () => {
    const { h, hook } = await setup(
      '  nightly-dump: { expect: "0 2 * * *", grace: 30m }\n',
      'alerts: { renotify: false }\n',
    );
    await h.advanceTo(T0 + 2 * HOUR + 5 * MIN);
    await h.ct.ping('nightly-dump', { ok: false, message: 'pg_dump: connection refused' });
    expect(await events(h, hook)).toEqual(['failure watch:nightly-dump']);
    const [incident] = await h.ct.incidents({ open: true });
    expect(incident!.message).toBe('nightly-dump reported a failure: pg_dump: connection refused');
    // The failing run still counts as a report in: the next deadline is tomorrow 02:30.
    const [w] = await h.ct.watches();
    expect(w).toMatchObject({ state: 'failing', deadline: T0 + 26 * HOUR + 30 * MIN });
    await h.advanceTo(T0 + 26 * HOUR + 30 * MIN);
    // Still the same incident (failing, then silent): deduplicated.
    expect(await events(h, hook)).toEqual(['failure watch:nightly-dump']);
    expect((await h.ct.incidents({ open: true }))[0]!.occurrences).toBe(2);
    await h.stop();
  });

  it('rejects a ping for an unknown watch with a hint', async () => {
    const { h } = await setup('  offsite-sync: { expect: every 1h }\n');
    await expect(h.ct.ping('offsite-snyc')).rejects.toThrow(
      /unknown watch "offsite-snyc" \(did you mean "offsite-sync"\?\)/,
    );
    await h.stop();
  });
});
