/**
 * Pause on a fleet: two real daemons on one PostgreSQL schema. A pause made through one host's
 * daemon holds on the other within about a second (the fleet scan reads the pauses), for a host
 * task (each host records its own skipped slots) and for a cluster task (one skipped row per
 * slot, by the host that claimed it); a resume from the other host lets both run again.
 */
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { fleetRoot, fleetSchema, hostDir, sql, startHost } from '../support/fleet.js';
import { needPostgres } from '../support/services.js';
import { waitUntil } from '../support/tmp.js';

const noPostgres = await needPostgres();

interface RunRow {
  host: string;
  task: string;
  status: string;
  scheduled_for: string;
  reason: string | null;
  started_at: string | null;
}

const runsOf = (schema: string) =>
  sql<RunRow>(
    `SELECT host, task, status, scheduled_for, reason, started_at FROM "${schema}".runs WHERE scheduled_for IS NOT NULL ORDER BY id`,
  );

describe.skipIf(noPostgres !== undefined)('fleet: pause and resume', () => {
  it('a pause through one host holds on every host; a resume through another lets all run again', async () => {
    const schema = fleetSchema();
    const root = fleetRoot();
    const body =
      'lease: 3s\n' +
      'tasks:\n' +
      '  beat: { action: shell, schedule: "every 1s", with: { command: "true" } }\n' +
      '  once: { action: shell, schedule: "every 1s", scope: cluster, with: { command: "true" } }\n';
    const a = hostDir(root, 'a', schema, body);
    const b = hostDir(root, 'b', schema, body);
    const da = await startHost(a, 'a', schema);
    const db = await startHost(b, 'b', schema);
    try {
      await waitUntil(
        async () => {
          const ok = (await runsOf(schema)).filter((r) => r.task === 'beat' && r.status === 'success');
          return ok.some((r) => r.host === 'a') && ok.some((r) => r.host === 'b');
        },
        'both hosts to run beat',
        15_000,
      );
      for (const task of ['beat', 'once']) {
        const r = cli(['pause', task, '--reason', 'fleet maintenance', '--json'], { cwd: a });
        expect(r.code, r.stderr).toBe(0);
      }
      const pausedAt = Math.max(
        ...(await sql<{ paused_at: string }>(`SELECT paused_at FROM "${schema}".pauses`)).map((p) =>
          Number(p.paused_at),
        ),
      );
      // Host b hears of it from the store, not from a's API.
      await waitUntil(
        async () =>
          (await runsOf(schema)).some(
            (r) =>
              r.host === 'b' &&
              r.task === 'beat' &&
              r.status === 'skipped' &&
              r.reason?.endsWith(': fleet maintenance'),
          ),
        'host b to skip a paused slot',
        10_000,
      );
      // Slots from 3 s after the pause on are past any poll delay (one scan a second, a slow one
      // on a loaded machine); wait for a few of them.
      await new Promise((r) => setTimeout(r, 5_000));
      const settled = pausedAt + 3_000;
      const paused = (await runsOf(schema)).filter((r) => Number(r.scheduled_for) > settled);
      expect(paused.length).toBeGreaterThan(0);
      for (const r of paused)
        expect({ status: r.status, reason: r.reason }).toMatchObject({
          status: 'skipped',
          reason: expect.stringMatching(/^paused by \S+: fleet maintenance$/),
        });
      // The cluster task: one row per slot, whichever host claimed it.
      const onceSlots = paused.filter((r) => r.task === 'once').map((r) => r.scheduled_for);
      expect(new Set(onceSlots).size).toBe(onceSlots.length);
      // Each host records its own slots of the host task.
      expect(new Set(paused.filter((r) => r.task === 'beat').map((r) => r.host))).toEqual(
        new Set(['a', 'b']),
      );

      // Both hosts' status shows the pause (the store is shared).
      const status = JSON.parse(cli(['status', '--json'], { cwd: b }).stdout) as {
        paused: { task: string }[];
      };
      expect(status.paused.map((p) => p.task).sort()).toEqual(['beat', 'once']);

      for (const task of ['beat', 'once']) expect(cli(['resume', task], { cwd: b }).code).toBe(0);
      const resumedAt = Date.now() + 1_500;
      await waitUntil(
        async () => {
          const ran = (await runsOf(schema)).filter(
            (r) => r.status === 'success' && Number(r.started_at ?? 0) > resumedAt,
          );
          return (
            ran.some((r) => r.host === 'a' && r.task === 'beat') &&
            ran.some((r) => r.host === 'b' && r.task === 'beat') &&
            ran.some((r) => r.task === 'once')
          );
        },
        'both hosts to run again after resume',
        15_000,
      );
    } finally {
      da.child.kill('SIGTERM');
      db.child.kill('SIGTERM');
      await Promise.all([da.exited, db.exited]);
    }
  });
});
