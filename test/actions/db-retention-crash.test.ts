/**
 * db-retention killed with SIGKILL in the middle of its work — a real `caretaker run-task` child
 * process on 200,000 rows — and rerun: afterwards every row is in exactly one place, the table or
 * the archive, never both and never neither. The kill lands at the two dangerous instants of the
 * protocol (through the CARETAKER_FAULT hook) and at an arbitrary one.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/driver.js';
import { decodeRows, type ArchiveFormat } from '../../src/actions/datastore/archive-format.js';
import { BIN, cliAsync } from '../support/cli.js';
import { runAction } from '../support/run-action.js';
import { dbRetentionAction } from '../../src/actions/db-retention.js';
import { needPostgres, testDatabase } from '../support/services.js';
import { tempDir, waitUntil } from '../support/tmp.js';
import type { RunRecord } from '../../src/store/types.js';

const ROWS = 200_000;
/** The cases that do not need the full size use fewer rows, to keep the suite fast. */
const FEWER = 40_000;
const DAY = 86_400_000;
const noPostgres = await needPostgres();

/** Rows whose id is not a multiple of 4 are 30 days old: the old rows interleave with young ones. */
const isOld = (id: number) => id % 4 !== 0;

function config(dir: string, withOptions: Record<string, unknown>): void {
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    `version: 1\nstate_dir: state\ntasks:\n  trim:\n    action: db-retention\n    timeout: 5m\n    with: ${JSON.stringify(withOptions)}\n`,
  );
}

/** Runs the retention in a child process and SIGKILLs it when `killWhen` says so. */
async function runAndKill(dir: string, killWhen: (stderr: string) => boolean, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(
    process.execPath,
    [BIN, 'run-task', 'trim', '--wait', '-c', join(dir, 'caretaker.yaml')],
    {
      env: { ...process.env, CARETAKER_CONFIG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
  let done = false;
  void exited.then(() => (done = true));
  await waitUntil(() => done || killWhen(stderr), 'the kill point', 60_000);
  expect(done, `the run finished before it could be killed: ${stdout}${stderr}`).toBe(false);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

async function rerun(dir: string): Promise<RunRecord> {
  const r = await cliAsync(['run-task', 'trim', '--wait', '--json', '-c', join(dir, 'caretaker.yaml')], {
    cwd: dir,
  });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout) as RunRecord;
}

/** The first key of an archive's batch, from its name (`events.1-5000.<stamp>.jsonl.gz`). */
const firstKey = (name: string) => Number(/^events\.(\d+)-/.exec(name)?.[1]);

function archiveFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Ids of every archived row (with duplicates, if any), and every archived row's content check. */
function archivedIds(dir: string, format: ArchiveFormat): number[] {
  const ids: number[] = [];
  for (const f of archiveFiles(dir)) {
    const rows = decodeRows(gunzipSync(readFileSync(join(dir, f))).toString('utf8'), format);
    for (const row of rows) {
      const id = Number(row.id);
      expect(row.msg, `archived content of row ${id}`).toBe(`message ${id}`);
      ids.push(id);
    }
  }
  return ids;
}

/** The property under test: every row exactly once, old rows archived, young rows kept. */
function expectEveryRowOnce(tableIds: number[], archived: number[], rows: number): void {
  const inArchive = new Set(archived);
  expect(archived.length, 'no row archived twice').toBe(inArchive.size);
  const inTable = new Set(tableIds);
  const both = tableIds.filter((id) => inArchive.has(id));
  expect(both, 'rows both in the table and in the archive').toEqual([]);
  const missing: number[] = [];
  for (let id = 1; id <= rows; id++) if (!inTable.has(id) && !inArchive.has(id)) missing.push(id);
  expect(missing, 'rows lost').toEqual([]);
  expect(
    archived.filter((id) => !isOld(id)),
    'young rows archived',
  ).toEqual([]);
  expect(tableIds.filter(isOld), 'old rows left in the table').toEqual([]);
  expect(inArchive.size).toBe(rows - rows / 4);
}

describe.skipIf(noPostgres)('db-retention on PostgreSQL killed with SIGKILL and rerun', () => {
  /**
   * `jsonb` keeps the archive lines encoded in JavaScript; without it (`serverLines`) PostgreSQL
   * builds them (pg-json-line.ts). Both go through the pipelined archive path.
   */
  async function seed(rows: number, serverLines = false) {
    const db = await testDatabase();
    await db.client.query(
      `CREATE TABLE events (id bigint PRIMARY KEY, ts timestamptz NOT NULL, msg text NOT NULL, extra ${serverLines ? 'text' : 'jsonb'})`,
    );
    await db.client.query(
      `INSERT INTO events SELECT g, CASE WHEN g % 4 <> 0 THEN now() - interval '30 days' ELSE now() END,
              'message ' || g, CASE WHEN g % 3 = 0 THEN jsonb_build_object('g', g) END
         FROM generate_series(1, $1::int) g`,
      [rows],
    );
    const dir = tempDir('ct-retention-');
    config(dir, {
      url: db.url,
      table: 'events',
      timestamp_column: 'ts',
      older_than: '7d',
      archive_to: 'archive',
    });
    const tableIds = async () =>
      (await db.client.query<{ id: string }>('SELECT id FROM events')).rows.map((r) => Number(r.id));
    return { db, dir, tableIds, archive: join(dir, 'archive') };
  }

  it('killed after a batch was archived but before its DELETE: the rerun archives it again, once', async () => {
    const { dir, tableIds, archive } = await seed(ROWS);
    await runAndKill(dir, (e) => e.includes('stalled at retention:after-archive 7'), {
      CARETAKER_FAULT: 'retention:after-archive:7',
    });
    const left = archiveFiles(archive);
    // The stalled batch's archive, and perhaps the next one's: the next batch is archived while
    // one is deleted, so it may have been written, durably, before the kill.
    const pending = left.filter((f) => f.endsWith('.pending'));
    expect(pending.length).toBeGreaterThanOrEqual(1);
    expect(pending.length).toBeLessThanOrEqual(2);
    expect(left.filter((f) => f.endsWith('.jsonl.gz'))).toHaveLength(6);
    // The stalled batch's rows (and the next's) are still in the table: nothing of theirs was deleted.
    expect((await tableIds()).length).toBe(ROWS - 6 * 5_000);

    const run = await rerun(dir);
    expect(run.status).toBe('success');
    const recovered = (run.result?.details as { recovered: { discarded: string[]; promoted: string[] } })
      .recovered;
    expect(recovered.discarded.sort()).toEqual(pending.map((f) => f.replace(/\.pending$/, '')).sort());
    expect(recovered.promoted).toEqual([]);
    expect(archiveFiles(archive).every((f) => f.endsWith('.jsonl.gz'))).toBe(true);
    expectEveryRowOnce(await tableIds(), archivedIds(archive, 'jsonl'), ROWS);
  });

  it('killed after the DELETE committed but before the archive was final (40,000 rows): the rerun keeps that archive', async () => {
    const { dir, tableIds, archive } = await seed(FEWER);
    await runAndKill(dir, (e) => e.includes('stalled at retention:after-delete 3'), {
      CARETAKER_FAULT: 'retention:after-delete:3',
    });
    expect((await tableIds()).length).toBe(FEWER - 3 * 5_000);
    // Batch 3's archive (its DELETE committed) and perhaps batch 4's (archived ahead, not deleted).
    const pending = archiveFiles(archive)
      .filter((f) => f.endsWith('.pending'))
      .map((f) => f.replace(/\.pending$/, ''))
      .sort((a, b) => firstKey(a) - firstKey(b));
    expect(pending.length).toBeGreaterThanOrEqual(1);
    expect(pending.length).toBeLessThanOrEqual(2);

    const run = await rerun(dir);
    const recovered = (run.result?.details as { recovered: { discarded: string[]; promoted: string[] } })
      .recovered;
    expect(recovered.promoted).toEqual([pending[0]]);
    expect(recovered.discarded).toEqual(pending.slice(1));
    expectEveryRowOnce(await tableIds(), archivedIds(archive, 'jsonl'), FEWER);
  });

  it.each([
    ['lines encoded by caretaker', false],
    ['lines built by PostgreSQL', true],
  ])(
    'killed at an arbitrary moment mid-way (%s): the rerun finishes with every row in one place',
    async (_, serverLines) => {
      const { dir, tableIds, archive } = await seed(ROWS, serverLines);
      // No hook: kill once a few batches are done, wherever the run happens to be.
      await runAndKill(dir, () => archiveFiles(archive).filter((f) => f.endsWith('.gz')).length >= 4);
      const run = await rerun(dir);
      expect(run.status).toBe('success');
      expect(archiveFiles(archive).some((f) => /\.(pending|tmp)$/.test(f))).toBe(false);
      expectEveryRowOnce(await tableIds(), archivedIds(archive, 'jsonl'), ROWS);
    },
  );
});

describe.skipIf(noPostgres)('db-retention on PostgreSQL stopped by its abort signal and rerun', () => {
  it('discards the batch archived ahead, leaves nothing half-done, and the rerun leaves every row once', async () => {
    const db = await testDatabase();
    await db.client.query(
      `CREATE TABLE events (id bigint PRIMARY KEY, ts timestamptz NOT NULL, msg text NOT NULL)`,
    );
    await db.client.query(
      `INSERT INTO events SELECT g, CASE WHEN g % 4 <> 0 THEN now() - interval '30 days' ELSE now() END, 'message ' || g
         FROM generate_series(1, $1::int) g`,
      [ROWS],
    );
    const dir = tempDir('ct-retention-');
    const archive = join(dir, 'archive');
    const options = {
      url: db.url,
      table: 'events',
      timestamp_column: 'ts',
      older_than: '7d',
      archive_to: 'archive',
      batch: 2_000,
    };
    const abort = new AbortController();
    const running = runAction(dbRetentionAction, options, { baseDir: dir, signal: abort.signal });
    await waitUntil(
      () => archiveFiles(archive).filter((f) => f.endsWith('.gz')).length >= 3,
      'three batches',
      60_000,
    );
    abort.abort();
    const { result } = await running;
    expect(result.ok, result.summary).toBe(false);
    expect(result.summary).toMatch(/stopped — the run was stopped/);
    // Stopped between or inside batches: no archive is left unfinished, and every final one's
    // rows are gone from the table.
    expect(archiveFiles(archive).filter((f) => !f.endsWith('.jsonl.gz'))).toEqual([]);
    const tableIds = async () =>
      (await db.client.query<{ id: string }>('SELECT id FROM events')).rows.map((r) => Number(r.id));
    const inTable = new Set(await tableIds());
    const archivedNow = archivedIds(archive, 'jsonl');
    expect(archivedNow.filter((id) => inTable.has(id))).toEqual([]);
    expect(archivedNow.length).toBe((result.details as { archived: number }).archived);

    const again = await runAction(dbRetentionAction, options, { baseDir: dir });
    expect(again.result.ok, again.result.summary).toBe(true);
    expectEveryRowOnce(await tableIds(), archivedIds(archive, 'jsonl'), ROWS);
  });
});

describe('db-retention on SQLite killed with SIGKILL and rerun', () => {
  it('archives to CSV (40,000 rows), is killed between archive and delete, and the rerun leaves every row once', async () => {
    const dir = tempDir('ct-retention-');
    const path = join(dir, 'app.db');
    const db = openSqlite(path);
    db.pragma('journal_mode = WAL');
    // Text timestamps as SQLite's datetime() writes them, an INTEGER PRIMARY KEY.
    db.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, ts TEXT NOT NULL, msg TEXT NOT NULL)`);
    const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?)');
    const old = new Date(Date.now() - 30 * DAY).toISOString().replace('T', ' ').slice(0, 19);
    const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
    db.transaction(() => {
      for (let id = 1; id <= FEWER; id++) insert.run(id, isOld(id) ? old : now, `message ${id}`);
    });
    db.close();
    config(dir, {
      path: 'app.db',
      table: 'events',
      timestamp_column: 'ts',
      older_than: '7d',
      archive_to: 'archive',
      archive_format: 'csv',
      batch: 2_000,
    });
    await runAndKill(dir, (e) => e.includes('stalled at retention:after-archive 4'), {
      CARETAKER_FAULT: 'retention:after-archive:4',
    });
    const archive = join(dir, 'archive');
    expect(archiveFiles(archive).filter((f) => f.endsWith('.csv.gz.pending'))).toHaveLength(1);

    const run = await rerun(dir);
    expect(run.status).toBe('success');
    const recovered = (run.result?.details as { recovered: { discarded: string[] } }).recovered;
    expect(recovered.discarded).toHaveLength(1);
    const check = openSqlite(path, { readonly: true });
    const ids = check
      .prepare<{ id: number }>('SELECT id FROM events')
      .all()
      .map((r) => r.id);
    check.close();
    expectEveryRowOnce(ids, archivedIds(archive, 'csv'), FEWER);
  });
});
