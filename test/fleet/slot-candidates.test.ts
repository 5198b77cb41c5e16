/**
 * Who claims a cluster slot, with real daemons: three `caretaker start` processes on one
 * PostgreSQL schema. Once each host has read the fleet, a slot is claimed at its instant only by
 * its two first candidates (rendezvous hashing over the live hosts), so every run is on one of
 * them; when both candidates of a slot are dead (SIGKILL) and not yet known lost, the third host
 * takes the slot at its fallback time, a few seconds late, and no slot is left unrun.
 */
import { describe, expect, it } from 'vitest';
import { FALLBACK_AFTER_MS, FALLBACK_SPREAD_MS, isSlotCandidate } from '../../src/core/slot-candidates.js';
import { fleetRoot, fleetSchema, hostDir, sql, startHost, type FleetDaemon } from '../support/fleet.js';
import { needPostgres } from '../support/services.js';

const noPostgres = await needPostgres();

const LEASE_MS = 9_000;
const TASKS = ['t1', 't2', 't3'];
const NAMES = ['a', 'b', 'c'];
/** The slots looked at after the kill: those in the first AFTER_MS. */
const AFTER_MS = 4_500;
/** A slot taken by fallback starts before this long after it (the fleet's every-second look after
 * the fallback time, and 4 s for a loaded machine: with 1.5 s, c was twice stopped before a
 * fallback slot's run in suites run on a busy machine). */
const LATEST_FALLBACK_MS = FALLBACK_AFTER_MS + FALLBACK_SPREAD_MS + 1_000 + 4_000;

interface Row {
  task: string;
  host: string;
  slot: string;
  started_at: string | null;
  status: string;
  trigger: string;
}

const runsOf = (schema: string) =>
  sql<Row>(
    `SELECT task, host, scheduled_for AS slot, started_at, status, trigger FROM "${schema}".runs
     WHERE scheduled_for IS NOT NULL ORDER BY scheduled_for, id`,
  );

/** The slots (whole seconds, all tasks) in [from, to) whose two candidates are a and b. */
function fallbackSlotsIn(from: number, to: number): number {
  let n = 0;
  for (let slot = Math.ceil(from / 1_000) * 1_000; slot < to; slot += 1_000)
    for (const task of TASKS) if (!isSlotCandidate(task, slot, 'c', NAMES)) n++;
  return n;
}

async function kill(d: FleetDaemon): Promise<void> {
  d.child.kill('SIGKILL');
  await d.exited;
}

describe.skipIf(noPostgres !== undefined)('fleet: the first candidates claim a slot', () => {
  it('runs each slot on one of its two candidates, and on the third host at its fallback time when both are dead', async () => {
    const schema = fleetSchema();
    const root = fleetRoot();
    const body =
      `lease: ${LEASE_MS}ms\n` +
      'tasks:\n' +
      TASKS.map(
        (t) => `  ${t}: { action: shell, schedule: "every 1s", scope: cluster, with: { command: "true" } }\n`,
      ).join('');
    const hosts = new Map<string, FleetDaemon>();
    for (const n of NAMES) hosts.set(n, await startHost(hostDir(root, n, schema, body), n, schema));
    // Every host reads the fleet once a lease (every third heartbeat): after that, all know all.
    const known = Date.now() + LEASE_MS + 1_000;
    // Kill at a moment whose next five seconds hold at least two slots that only a and b are
    // candidates for (about one slot in three; a window with none, about 1 in 500, once made
    // this test fail with nothing to show).
    let killAt = known + 4_000;
    while (fallbackSlotsIn(killAt + 500, killAt + AFTER_MS) < 2) killAt += 1_000;
    await new Promise((r) => setTimeout(r, killAt - Date.now()));
    // Kill a and b together: for the slots whose candidates are a and b, c (still counting them
    // up, until their lease ends and its next look) waits for its fallback time and takes them.
    const killedAt = Date.now();
    await Promise.all([kill(hosts.get('a')!), kill(hosts.get('b')!)]);
    // c stops once the last slot of the window had its fallback time and the look after it (the
    // bound checked below), with a second to spare.
    await new Promise((r) => setTimeout(r, AFTER_MS + LATEST_FALLBACK_MS + 1_000 - (Date.now() - killedAt)));
    const c = hosts.get('c')!;
    c.child.kill('SIGTERM');
    await c.exited;

    const rows = await runsOf(schema);
    // Per task and slot: its runs.
    const bySlot = new Map<string, Row[]>();
    for (const r of rows)
      bySlot.set(`${r.task}@${r.slot}`, [...(bySlot.get(`${r.task}@${r.slot}`) ?? []), r]);
    const inWindow = (from: number, to: number) =>
      TASKS.flatMap((task) =>
        Array.from(
          { length: Math.floor((to - from) / 1_000) + 2 },
          (_, i) => Math.ceil(from / 1_000) * 1_000 + i * 1_000,
        )
          .filter((slot) => slot >= from && slot < to)
          .map((slot) => ({ task, slot, runs: bySlot.get(`${task}@${slot}`) ?? [] })),
      );
    const settled = inWindow(known, killedAt - 1_000);
    expect(settled.length).toBeGreaterThanOrEqual(6);
    for (const { task, slot, runs } of settled) {
      expect(runs, `${task}@${slot}`).toHaveLength(1);
      expect(isSlotCandidate(task, slot, runs[0]!.host, NAMES), JSON.stringify(runs[0])).toBe(true);
    }
    // After the kill, while c still counts a and b up (their lease is 9 s): every slot ran once,
    // on c — at once where c is a candidate, at its fallback time where a and b were the two.
    const after = inWindow(killedAt + 500, killedAt + AFTER_MS);
    const fallbacks = after.filter(({ task, slot }) => !isSlotCandidate(task, slot, 'c', NAMES));
    const direct = after.filter(({ task, slot }) => isSlotCandidate(task, slot, 'c', NAMES));
    console.log(
      `  ${settled.length} slots before the kill, each on a candidate; after it ${direct.length} on c at once, ${fallbacks.length} by fallback`,
    );
    expect(fallbacks.length).toBeGreaterThanOrEqual(1);
    // A fallback slot that comes due while c has a run of the task waiting (a loaded machine:
    // the run of a later slot not yet started) is covered by that run (overlap: forbid with
    // missed: once, the defaults): its claim is ended as coalesced, and it has no run of its own.
    const claims = new Map(
      (
        await sql<{ task: string; slot: string; host: string; state: string; reason: string | null }>(
          `SELECT task, slot, host, state, reason FROM "${schema}".claims`,
        )
      ).map((c) => [`${c.task}@${c.slot}`, c]),
    );
    const ranOnC = new Set(rows.filter((r) => r.host === 'c').map((r) => r.task));
    const coalesced = after.filter(({ task, slot, runs }) => {
      if (runs.length > 0) return false;
      const claim = claims.get(`${task}@${slot}`);
      const iso = new Date(slot).toISOString();
      const said = c
        .output()
        .split('\n')
        .filter((l) => l.includes(iso));
      // Not covered: the claim and what c logged of the slot say why.
      expect(
        claim?.host === 'c' &&
          claim.state === 'skipped' &&
          claim.reason?.startsWith('coalesced into the waiting run #'),
        `${task}@${slot} has no run; its claim: ${JSON.stringify(claim)}; c logged: ${said.join(' | ') || 'nothing'}`,
      ).toBe(true);
      expect(ranOnC.has(task)).toBe(true);
      return true;
    });
    for (const { task, slot, runs } of after) {
      if (coalesced.some((k) => k.task === task && k.slot === slot)) continue;
      expect(runs, `${task}@${slot}`).toHaveLength(1);
      expect(runs[0]!.host).toBe('c');
    }
    for (const { slot, runs } of fallbacks) {
      if (runs.length === 0) continue; // coalesced, checked above
      const late = Number(runs[0]!.started_at) - slot;
      expect(late).toBeGreaterThanOrEqual(FALLBACK_AFTER_MS);
      // Asked at the fleet's every-second look after the fallback time.
      expect(late).toBeLessThan(LATEST_FALLBACK_MS);
    }
    for (const { slot, runs } of direct)
      if (runs.length > 0) expect(Number(runs[0]!.started_at) - slot).toBeLessThan(FALLBACK_AFTER_MS);
  }, 60_000);
});
