/**
 * A history of several hosts (a fleet on PostgreSQL, or a SQLite file that saw a rename):
 * `history --host NAME` lists one host's runs, `metrics --by-host` gives the figures per task and
 * host. The same CLI checks run on SQLite and on PostgreSQL (a schema of the test's own).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { HostMetricsReport, MetricsReport, RunRecord } from '../../src/caretaker.js';
import { recordLoadedConfig } from '../../src/config/own-config-check.js';
import { PgStore } from '../../src/store/postgres/pg-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/types.js';
import { cli } from '../support/cli.js';
import { PG_URL, needPostgres } from '../support/services.js';
import { tempDir } from '../support/tmp.js';
import { tracedCli } from '../support/traced-cli.js';

const noPostgres = await needPostgres();

const TASKS = `tasks:\n  a: { action: shell, with: { command: "true" } }\n  b: { action: shell, with: { command: "true" } }\n`;

/** Runs finished in the last hours: web-1 runs a and b, web-2 runs a (one of its three fails). */
async function record(store: Store): Promise<void> {
  const now = Date.now();
  const plan: [string, string, 'success' | 'failed', number][] = [
    ['a', 'web-1', 'success', 100],
    ['b', 'web-1', 'success', 200],
    ['a', 'web-1', 'success', 300],
    ['a', 'web-2', 'success', 1000],
    ['a', 'web-2', 'failed', 2000],
    ['a', 'web-2', 'success', 3000],
  ];
  let i = 0;
  for (const [task, host, status, ms] of plan) {
    const at = now - 3_600_000 + i++ * 60_000;
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
    });
    await store.finishRun(r.id, {
      status,
      finishedAt: at + ms,
      durationMs: ms,
      exitCode: status === 'success' ? 0 : 1,
    });
  }
}

interface Kind {
  readonly name: string;
  readonly skip: boolean;
  /** A config dir whose store holds the runs of `record`. */
  make(): Promise<string>;
}

const kinds: Kind[] = [
  {
    name: 'SQLite',
    skip: false,
    async make() {
      const dir = tempDir('ct-byhost-');
      writeFileSync(join(dir, 'caretaker.yaml'), `version: 1\n${TASKS}`);
      const store = new SqliteStore(join(dir, '.caretaker', 'caretaker.db'));
      await record(store);
      await store.close();
      return dir;
    },
  },
  {
    name: 'PostgreSQL',
    skip: noPostgres !== undefined,
    async make() {
      const schema = `ct_byhost_${randomBytes(5).toString('hex')}`;
      onTestFinished(async () => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      });
      const dir = tempDir('ct-byhost-');
      writeFileSync(
        join(dir, 'caretaker.yaml'),
        `version: 1\nstore: ${PG_URL}\nstore_schema: ${schema}\n${TASKS}`,
      );
      const store = await PgStore.open({ url: PG_URL, schema });
      await record(store);
      await store.close();
      return dir;
    },
  },
];

for (const kind of kinds) {
  describe.skipIf(kind.skip)(`history --host and metrics --by-host on ${kind.name}`, () => {
    it('history --host lists only that host’s runs; without it a HOST column tells them apart', async () => {
      const dir = await kind.make();
      const h2 = cli(['history', '--host', 'web-2', '--json'], { cwd: dir });
      expect(h2.code, h2.stderr).toBe(0);
      const runs = JSON.parse(h2.stdout) as RunRecord[];
      expect(runs.map((r) => [r.task, r.host, r.status])).toEqual([
        ['a', 'web-2', 'success'],
        ['a', 'web-2', 'failed'],
        ['a', 'web-2', 'success'],
      ]);
      const h1b = cli(['history', 'b', '--host', 'web-1', '--json'], { cwd: dir });
      expect((JSON.parse(h1b.stdout) as RunRecord[]).map((r) => [r.task, r.host])).toEqual([['b', 'web-1']]);
      const none = cli(['history', 'b', '--host', 'web-2'], { cwd: dir });
      expect(none.code, none.stderr).toBe(0);
      expect(none.stdout).toBe('b has not run yet on web-2\n');
      const all = cli(['history'], { cwd: dir });
      expect(all.stdout.split('\n')[0]).toMatch(/^RUN\s+TASK\s+HOST\s+STATUS/);
      expect(all.stdout).toMatch(/#\d+\s+a\s+web-2\s+success/);
      const one = cli(['history', '--host', 'web-1'], { cwd: dir });
      expect(one.stdout.split('\n')[0]).not.toContain('HOST');
    });

    it('metrics --by-host gives each task’s figures per host, adding up to the rollup’s', async () => {
      const dir = await kind.make();
      const r = cli(['metrics', '--by-host', '--json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const m = JSON.parse(r.stdout) as HostMetricsReport;
      expect(m.basis).toBe('runs');
      expect(m.tasks.map((t) => [t.task, t.host, t.runs, t.successes, t.failures, t.maxMs])).toEqual([
        ['a', 'web-1', 2, 2, 0, 300],
        ['a', 'web-2', 3, 2, 1, 3000],
        ['b', 'web-1', 1, 1, 0, 200],
      ]);
      expect(m.tasks.find((t) => t.host === 'web-2')!.avgMs).toBe(2000);
      expect(m.hosts.map((h) => [h.host, h.runs])).toEqual([
        ['web-1', 3],
        ['web-2', 3],
      ]);
      const plain = JSON.parse(cli(['metrics', '--json'], { cwd: dir }).stdout) as MetricsReport;
      for (const t of plain.tasks)
        expect(m.tasks.filter((x) => x.task === t.task).reduce((n, x) => n + x.runs, 0)).toBe(t.runs);
      const text = cli(['metrics', '--by-host'], { cwd: dir });
      expect(text.stdout).toContain('per host, from the runs kept in history');
      expect(text.stdout).toMatch(/^a\s+web-2\s+3\s+66\.7%/m);
    });
  });
}

describe('history --host through the fast path', () => {
  it('reads one host’s runs without loading the configuration', async () => {
    const dir = await kinds[0]!.make();
    await recordLoadedConfig(join(dir, 'caretaker.yaml'), join(dir, '.caretaker'), Date.now());
    const r = tracedCli(['history', '--host', 'web-2'], dir);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').slice(1);
    expect(rows.map((l) => /^#\d+\s+(\w+)\s+(\w+)/.exec(l)!.slice(1))).toEqual([
      ['a', 'success'],
      ['a', 'failed'],
      ['a', 'success'],
    ]);
    expect([...r.packages]).not.toContain('yaml');
  });
});
