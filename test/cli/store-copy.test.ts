/**
 * `caretaker store copy --to postgres://…` as an operator runs it: a real SQLite history (written
 * through the store as a daemon writes it), real CLI child processes, a real PostgreSQL schema of
 * the test's own (dropped afterwards). Copy, copy again (nothing), a copy killed half-way and
 * resumed (nothing twice), statistics equal to the source's (runs pruned from it still count),
 * queued and running runs left out until they finish, and the bad inputs (one line, exit 2).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { CopyReport } from '../../src/caretaker.js';
import { PgStore } from '../../src/store/postgres/pg-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunStatus } from '../../src/store/types.js';
import { cli, cliAsync } from '../support/cli.js';
import { PG_URL, needPostgres } from '../support/services.js';
import { tempDir } from '../support/tmp.js';

const noPostgres = await needPostgres();
const DAY = 86_400_000;
/** A fixed past instant: the runs span days before it (metrics are not read here). */
const T0 = Date.UTC(2026, 9, 1);

async function sql<T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

function freshSchema(): string {
  const schema = `ct_copy_${randomBytes(5).toString('hex')}`;
  onTestFinished(async () => {
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  return schema;
}

interface Setup {
  readonly dir: string;
  readonly db: string;
  readonly schema: string;
}

function setup(): Setup {
  const dir = tempDir('ct-copy-');
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    `version: 1\nhost: web-1\ntasks:\n  a: { action: shell, with: { command: "true" } }\n  b: { action: shell, with: { command: "true" } }\n`,
  );
  return { dir, db: join(dir, '.caretaker', 'caretaker.db'), schema: freshSchema() };
}

/** `n` finished runs of tasks a and b over several days, recorded as the engine records them. */
async function addRuns(db: string, n: number, from = 0, host = 'web-1'): Promise<void> {
  const store = new SqliteStore(db);
  try {
    for (let i = from; i < from + n; i++) {
      const task = i % 2 === 0 ? 'a' : 'b';
      const at = T0 + i * 60_000;
      const r = await store.insertRun({
        task,
        host,
        trigger: 'schedule',
        scheduledFor: at,
        notBefore: at,
        queuedAt: at,
        status: 'running',
        startedAt: at,
        attempt: 1,
        dryRun: false,
        pid: 1,
        claimFire: true,
      });
      const failed = i % 7 === 0;
      const ms = 20 + ((i * 7919) % 3000);
      await store.finishRun(r.id, {
        status: failed ? 'failed' : 'success',
        finishedAt: at + ms,
        durationMs: ms,
        exitCode: failed ? 1 : 0,
        outputTail: `run ${i}\n`,
        result: { ok: !failed, summary: `exit ${failed ? 1 : 0}` },
      });
    }
  } finally {
    await store.close();
  }
}

function copy(s: Setup, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return cli(['store', 'copy', '--to', PG_URL, '--schema', s.schema, ...extra], {
    cwd: s.dir,
    env: { ...process.env, ...env },
  });
}

function copyJson(s: Setup, extra: string[] = []): CopyReport {
  const r = copy(s, ['--json', ...extra]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout) as CopyReport;
}

async function statsOf(source: string, schema: string) {
  const src = new SqliteStore(source, { readonly: true });
  const dst = await PgStore.open({ url: PG_URL, schema });
  try {
    return {
      source: await src.dailyStats(0),
      target: await dst.dailyStats(0),
      sourceTotals: await src.runTotals(),
      targetTotals: await dst.runTotals(),
    };
  } finally {
    await src.close();
    await dst.close();
  }
}

/** Runs in the target as (task, queued_at, status) — the identity a duplicate would repeat. */
async function targetRuns(schema: string) {
  return sql<{ task: string; queued_at: number; status: RunStatus; n: number }>(
    `SELECT task, queued_at::float8 AS queued_at, status, count(*)::int AS n FROM "${schema}".runs
      GROUP BY task, queued_at, status ORDER BY queued_at`,
  );
}

describe.skipIf(noPostgres !== undefined)('caretaker store copy --to postgres://', () => {
  it('copies every finished run, task state, daily stats, samples, closed incidents and pings, and says what', async () => {
    const s = setup();
    await addRuns(s.db, 1200);
    const store = new SqliteStore(s.db);
    await store.recordSamples('a', T0, [{ key: 'disk:used', value: 42, unit: '%' }]);
    await store.recordSamples('a', T0 + 60_000, [{ key: 'disk:used', value: 43, unit: '%' }]);
    const inc = await store.saveIncident({
      id: 0,
      key: 'task:a:failure',
      subjectKind: 'task',
      subjectId: 'a',
      event: 'failure',
      level: 'fail',
      openedAt: T0,
      lastSeenAt: T0 + 1000,
      lastNotifiedAt: T0,
      occurrences: 2,
      notifications: 1,
      message: 'a failed',
      oneShot: false,
      closedAt: T0 + 5000,
    });
    await store.insertDelivery({
      incidentId: inc.id,
      channel: 'ops',
      event: 'failure',
      status: 'sent',
      attempts: 1,
      createdAt: T0,
      finishedAt: T0 + 10,
      error: null,
      payload: null,
    });
    await store.saveIncident({ ...inc, id: 0, key: 'task:b:failure', subjectId: 'b', closedAt: null });
    await store.recordPing({ name: 'nightly', at: T0, ok: true, source: 'cli', message: null });
    await store.pauseTask('a', { by: 'alice', reason: 'disk swap', at: T0 });
    const states = await store.taskStates('web-1');
    await store.close();

    const r = copyJson(s, ['--batch', '500']);
    expect(r.copied).toEqual({
      runs: 1200,
      taskStates: 2,
      dailyStats: expect.any(Number),
      samples: 2,
      incidents: 1,
      deliveries: 1,
      pings: 1,
      pauses: 1,
    });
    expect(r.batches).toBe(3);
    expect(r.incidentsLeftOut).toBe(1);
    expect(r.source).toBe(s.db);
    expect(r.target).toBe(`${PG_URL} (schema ${s.schema})`);

    const runs = await targetRuns(s.schema);
    expect(runs).toHaveLength(1200);
    expect(runs.every((x) => x.n === 1)).toBe(true);
    const { source, target } = await statsOf(s.db, s.schema);
    expect(r.copied.dailyStats).toBe(source.length);
    expect(target).toEqual(source);

    const pgStore = await PgStore.open({ url: PG_URL, schema: s.schema });
    try {
      const copiedStates = await pgStore.taskStates('web-1');
      for (const task of ['a', 'b']) {
        const want = states.get(task)!;
        const got = copiedStates.get(task)!;
        expect({ ...got, lastRunId: null }).toEqual({ ...want, lastRunId: null });
        // The last run points at the copy of the source's last run.
        const last = (await pgStore.getRun(got.lastRunId!))!;
        expect([last.task, last.finishedAt]).toEqual([task, want.lastFinishedAt]);
      }
      // A copied run keeps what was recorded: output, result, timestamps, host.
      const newest = (await pgStore.listRuns({ limit: 1 }))[0]!;
      expect(newest).toMatchObject({ task: 'b', host: 'web-1', outputTail: 'run 1199\n', status: 'success' });
      expect(newest.result).toEqual({ ok: true, summary: 'exit 0' });
      expect(await pgStore.sampleSeries('a', 'disk:used', 0)).toEqual([
        { at: T0, value: 42 },
        { at: T0 + 60_000, value: 43 },
      ]);
      expect((await pgStore.listIncidents({ limit: 10 })).map((i) => [i.key, i.closedAt])).toEqual([
        ['task:a:failure', T0 + 5000],
      ]);
      // The host's pause holds in the fleet's store (on every host) as it was.
      expect(await pgStore.listPauses()).toEqual([{ task: 'a', by: 'alice', reason: 'disk swap', at: T0 }]);
    } finally {
      await pgStore.close();
    }

    // The text form names source and target and the counts.
    const again = copy(s);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`nothing to copy: everything in ${s.db} is already in ${PG_URL}`);
    expect(again.stdout).toContain('1200 runs copied before');
  });

  it('a second copy copies nothing; a third after more runs copies only those, and stats count once', async () => {
    const s = setup();
    await addRuns(s.db, 300);
    expect(copyJson(s).copied.runs).toBe(300);
    const second = copyJson(s);
    expect(second.copied).toEqual({
      runs: 0,
      taskStates: 0,
      dailyStats: 0,
      samples: 0,
      incidents: 0,
      deliveries: 0,
      pings: 0,
      pauses: 0,
    });
    expect(second.runsCopiedBefore).toBe(300);
    expect(await targetRuns(s.schema)).toHaveLength(300);

    await addRuns(s.db, 200, 300);
    const third = copyJson(s);
    expect(third.copied.runs).toBe(200);
    expect(third.copied.taskStates).toBe(2);
    expect(await targetRuns(s.schema)).toHaveLength(500);
    const { source, target, sourceTotals, targetTotals } = await statsOf(s.db, s.schema);
    expect(target).toEqual(source);
    // The lifetime totals (Prometheus counters) too, each run counted once over three copies.
    expect(sourceTotals.reduce((n, t) => n + t.runs, 0)).toBe(500);
    expect(targetTotals).toEqual(sourceTotals);
  });

  it('a copy killed -9 after a batch, or inside one, is resumed: the rest copied, nothing twice', async () => {
    const s = setup();
    await addRuns(s.db, 2000);
    const killed = copy(s, ['--batch', '400'], { CARETAKER_TEST_COPY_KILL: 'after:2' });
    expect(killed.code).toBe(-1); // killed by SIGKILL, no exit code
    expect(await targetRuns(s.schema)).toHaveLength(800);

    // Inside batch 2 of the next attempt (runs 1201-1600): that batch is rolled back with its mark.
    const killedInside = copy(s, ['--batch', '400'], { CARETAKER_TEST_COPY_KILL: 'in:2' });
    expect(killedInside.code).toBe(-1);
    expect(await targetRuns(s.schema)).toHaveLength(1200);

    const resumed = copyJson(s, ['--batch', '400']);
    expect(resumed.copied.runs).toBe(800);
    expect(resumed.runsCopiedBefore).toBe(1200);
    const runs = await targetRuns(s.schema);
    expect(runs).toHaveLength(2000);
    expect(runs.every((x) => x.n === 1)).toBe(true);
    // The statistics were merged once, after the runs, by the run that got that far.
    const { source, target } = await statsOf(s.db, s.schema);
    expect(target).toEqual(source);
    expect(copyJson(s).copied.runs).toBe(0);
  });

  it('two copies of the same history at once never copy a run or a day twice', async () => {
    const s = setup();
    await addRuns(s.db, 3000);
    const args = ['store', 'copy', '--to', PG_URL, '--schema', s.schema, '--batch', '100'];
    // The schema first, so that both start copying rather than migrating.
    await (await PgStore.open({ url: PG_URL, schema: s.schema })).close();
    const both = await Promise.all([cliAsync(args, { cwd: s.dir }), cliAsync(args, { cwd: s.dir })]);
    for (const r of both) {
      expect([0, 1], r.stderr).toContain(r.code);
      if (r.code === 1)
        expect(r.stderr.trim()).toBe(
          'caretaker: another store copy of this history into this store ran at the same time; nothing of this batch was kept — run store copy again once it has finished',
        );
    }
    copyJson(s);
    const runs = await targetRuns(s.schema);
    expect(runs).toHaveLength(3000);
    expect(runs.every((x) => x.n === 1)).toBe(true);
    const { source, target } = await statsOf(s.db, s.schema);
    expect(target).toEqual(source);
  });

  it('the target rollup equals the source rollup even for runs pruned from the source', async () => {
    const s = setup();
    await addRuns(s.db, 600);
    const store = new SqliteStore(s.db);
    // Runs finished before the cutoff go; the daily statistics keep counting them.
    const deleted = await store.pruneRuns({ before: T0 + 300 * 60_000, keepRunsPerTask: 1_000_000 });
    await store.close();
    expect(deleted).toBeGreaterThan(250);
    const r = copyJson(s);
    expect(r.copied.runs).toBe(600 - deleted);
    const { source, target, sourceTotals, targetTotals } = await statsOf(s.db, s.schema);
    expect(source.reduce((n, d) => n + d.runs, 0)).toBe(600);
    expect(target).toEqual(source);
    expect(targetTotals.reduce((n, t) => n + t.runs, 0)).toBe(600);
    expect(targetTotals).toEqual(sourceTotals);
  });

  it('adds to a rollup the target already has (another host), exactly once', async () => {
    const s = setup();
    await addRuns(s.db, 100);
    const other = await PgStore.open({ url: PG_URL, schema: s.schema });
    const at = T0 + 5 * 60_000;
    const run = await other.insertRun({
      task: 'a',
      host: 'web-2',
      trigger: 'schedule',
      scheduledFor: at,
      notBefore: at,
      queuedAt: at,
      status: 'running',
      startedAt: at,
      attempt: 1,
      dryRun: false,
      pid: 1,
    });
    await other.finishRun(run.id, { status: 'success', finishedAt: at + 10, durationMs: 10 });
    await other.close();
    copyJson(s);
    copyJson(s);
    const { source, target } = await statsOf(s.db, s.schema);
    const day = Math.floor((at + 10) / DAY);
    const src = source.find((d) => d.task === 'a' && d.day === day)!;
    const dst = target.find((d) => d.task === 'a' && d.day === day)!;
    expect(dst.runs).toBe(src.runs + 1);
    expect(dst.totalMs).toBe(src.totalMs + 10);
    expect(target.filter((d) => d !== dst)).toEqual(source.filter((d) => d !== src));
  });

  it('leaves queued and running runs out, and copies them once they finished', async () => {
    const s = setup();
    await addRuns(s.db, 10);
    const store = new SqliteStore(s.db);
    const running = await store.insertRun({
      task: 'a',
      host: 'web-1',
      trigger: 'manual',
      scheduledFor: null,
      notBefore: null,
      queuedAt: T0 + DAY,
      status: 'running',
      startedAt: T0 + DAY,
      attempt: 1,
      dryRun: false,
      pid: 1,
    });
    await store.close();
    await addRuns(s.db, 5, 10);
    const first = copy(s);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('1 queued or running run left out');
    expect(await targetRuns(s.schema)).toHaveLength(15);

    const again = new SqliteStore(s.db);
    await again.finishRun(running.id, { status: 'success', finishedAt: T0 + DAY + 50, durationMs: 50 });
    await again.close();
    const second = copyJson(s);
    expect(second.copied.runs).toBe(1);
    expect(second.runsLeftOut).toBe(0);
    const runs = await targetRuns(s.schema);
    expect(runs).toHaveLength(16);
    expect(runs.at(-1)).toMatchObject({ task: 'a', queued_at: T0 + DAY, status: 'success' });
    const { source, target } = await statsOf(s.db, s.schema);
    expect(target).toEqual(source);
  });

  it('copies output with a NUL character (PostgreSQL text has none) as U+FFFD instead of failing', async () => {
    const s = setup();
    await addRuns(s.db, 2);
    const store = new SqliteStore(s.db);
    const r = await store.insertRun({
      task: 'a',
      host: 'web-1',
      trigger: 'manual',
      scheduledFor: null,
      notBefore: null,
      queuedAt: T0 + DAY,
      status: 'running',
      startedAt: T0 + DAY,
      attempt: 1,
      dryRun: false,
      pid: 1,
    });
    await store.finishRun(r.id, {
      status: 'success',
      finishedAt: T0 + DAY + 5,
      durationMs: 5,
      outputTail: 'a\u0000b',
      result: { ok: true, summary: 'x\u0000y' },
    });
    await store.close();
    expect(copyJson(s).copied.runs).toBe(3);
    const rows = await sql<{ output_tail: string; result: { summary: string } }>(
      `SELECT output_tail, result FROM "${s.schema}".runs ORDER BY id DESC LIMIT 1`,
    );
    expect(rows).toEqual([{ output_tail: 'a\uFFFDb', result: { ok: true, summary: 'x\uFFFDy' } }]);
  });

  it('bad input: one line, exit 2, no password', async () => {
    const s = setup();
    const noHistory = copy(s);
    expect(noHistory.code).toBe(2);
    expect(noHistory.stderr.trim()).toBe(
      `caretaker: no history to copy: ${s.db} does not exist (nothing has run with this configuration)`,
    );

    await new SqliteStore(s.db).close();
    const empty = copy(s);
    expect(empty.code).toBe(2);
    expect(empty.stderr.trim()).toBe(`caretaker: no history to copy: ${s.db} holds no runs`);

    await addRuns(s.db, 3);
    const notPg = cli(['store', 'copy', '--to', 'mysql://root:hunter22@db/x'], { cwd: s.dir });
    expect(notPg.code).toBe(2);
    expect(notPg.stderr.trim()).toBe(
      'caretaker: --to: expected a postgres:// URL, got "mysql://root:***@db/x"',
    );

    const unreachable = cli(['store', 'copy', '--to-env', 'CT_COPY_URL'], {
      cwd: s.dir,
      env: { ...process.env, CT_COPY_URL: 'postgres://ct:hunter22@127.0.0.1:1/test' },
    });
    // An unreachable server is an outage, not a wrong input: exit 1 (as every command on a store that is down).
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim().split('\n')).toHaveLength(1);
    expect(unreachable.stderr).toContain('store postgres://ct:***@127.0.0.1:1/test unreachable');
    expect(unreachable.stderr + unreachable.stdout).not.toContain('hunter22');

    const unset = cli(['store', 'copy', '--to-env', 'CT_COPY_NOT_SET'], { cwd: s.dir });
    expect(unset.code).toBe(2);
    expect(unset.stderr.trim()).toBe(
      'caretaker: --to-env: the environment variable CT_COPY_NOT_SET is not set (expected a postgres:// URL)',
    );

    const none = cli(['store', 'copy'], { cwd: s.dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('store copy needs --to postgres://');

    // A configuration whose history is on PostgreSQL already has nothing to copy from.
    writeFileSync(
      join(s.dir, 'pg.yaml'),
      `version: 1\nstore: ${PG_URL}\nstore_schema: ${s.schema}\ntasks: {}\n`,
    );
    const fromPg = cli(['store', 'copy', '-c', 'pg.yaml', '--to', PG_URL, '--schema', s.schema], {
      cwd: s.dir,
    });
    expect(fromPg.code).toBe(2);
    expect(fromPg.stderr).toMatch(
      /^caretaker: the history of .*pg\.yaml is already on PostgreSQL .*; store copy copies a SQLite history\n$/,
    );

    // --to-env with a password: the copy works and the password is printed nowhere.
    const url = new URL(PG_URL);
    url.password = 'hunter22';
    const good = cli(['store', 'copy', '--to-env', 'CT_COPY_URL', '--schema', s.schema], {
      cwd: s.dir,
      env: { ...process.env, CT_COPY_URL: url.toString() },
    });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('postgres://postgres:***@127.0.0.1:5432/test');
    expect(good.stdout + good.stderr).not.toContain('hunter22');
    expect(await targetRuns(s.schema)).toHaveLength(3);
  });
});
