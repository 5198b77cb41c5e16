/**
 * A user who may read the history but not write it (an operator's own account, a monitoring
 * user) runs the report commands: `caretaker history`, `metrics`, `list-tasks`. Real: the
 * database is written by root, and the CLI runs as `nobody` through setpriv, so SQLite meets
 * the file and directory permissions it would meet in production.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../support/tmp.js';
import { T0 } from './conformance/harness.js';

const CLI = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

function whyNoOtherUser(): string | undefined {
  if (process.getuid?.() !== 0) return 'the test needs root to run a command as another user';
  const probe = spawnSync('setpriv', [...NOBODY, process.execPath, '-e', 'process.exit(0)'], {
    encoding: 'utf8',
  });
  if (probe.error) return `setpriv is not available: ${probe.error.message}`;
  if (probe.status !== 0) return `nobody cannot run ${process.execPath}: ${probe.stderr.trim()}`;
  // A checkout under a directory only its owner may enter (mktemp -d makes one) hides the CLI.
  const read = spawnSync(
    'setpriv',
    [...NOBODY, process.execPath, '-e', `require('node:fs').accessSync(${JSON.stringify(CLI)}, 4)`],
    { encoding: 'utf8' },
  );
  if (read.status !== 0) return `nobody cannot read ${CLI} (a parent directory is closed to other users)`;
  return undefined;
}

const reason = whyNoOtherUser();
if (reason) console.warn(`[skipped] read-only user tests: ${reason}`);

/** A config dir nobody may read and not write, with its state dir. */
function project(): { dir: string; db: string } {
  const dir = tempDir('ct-ro-');
  writeFileSync(
    join(dir, 'caretaker.yaml'),
    'version: 1\ntasks:\n  nightly:\n    action: shell\n    schedule: "@daily"\n    with: { command: "true" }\n',
  );
  return { dir, db: join(dir, '.caretaker', 'caretaker.db') };
}

async function recordRuns(db: string, n: number, opts: { keepOpen?: boolean } = {}): Promise<SqliteStore> {
  const store = new SqliteStore(db, { deferCheckpoints: opts.keepOpen ?? false });
  for (let i = 0; i < n; i++) {
    const r = await store.insertRun({
      task: 'nightly',
      host: hostname(),
      trigger: 'manual',
      scheduledFor: null,
      notBefore: null,
      queuedAt: T0 + i,
      status: 'running',
      startedAt: T0 + i,
      attempt: 1,
      dryRun: false,
      pid: 1,
    });
    await store.finishRun(r.id, { status: 'success', finishedAt: T0 + i + 5, durationMs: 5 });
  }
  if (!opts.keepOpen) await store.close();
  return store;
}

/** Everything readable, nothing writable by anyone but root (the owner). */
function readOnlyForOthers(dir: string): void {
  chmodSync(dir, 0o755);
  const state = join(dir, '.caretaker');
  if (existsSync(state)) {
    chmodSync(state, 0o755);
    for (const f of readdirSync(state)) chmodSync(join(state, f), 0o644);
  }
}

function asNobody(dir: string, ...args: string[]) {
  const r = spawnSync(
    'setpriv',
    [...NOBODY, process.execPath, CLI, ...args, '-c', join(dir, 'caretaker.yaml')],
    {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(reason !== undefined)(
  `report commands as a user who cannot write the state dir${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    it('shows history and metrics of a database at rest (no -wal or -shm left)', async () => {
      const { dir, db } = project();
      await recordRuns(db, 3);
      readOnlyForOthers(dir);
      expect(readdirSync(join(dir, '.caretaker')).sort()).toEqual(['caretaker.db']);
      const history = asNobody(dir, 'history', '--json');
      expect(history.err).toBe('');
      expect(history.code).toBe(0);
      expect((JSON.parse(history.out) as { task: string; status: string }[]).map((r) => r.status)).toEqual([
        'success',
        'success',
        'success',
      ]);
      const metrics = asNobody(dir, 'metrics', '--days', '30', '--json');
      expect(metrics.code).toBe(0);
      expect(JSON.parse(metrics.out)).toMatchObject({ total: { runs: 3 } });
      const tasks = asNobody(dir, 'list-tasks', '--json');
      expect(tasks.code).toBe(0);
      expect(JSON.parse(tasks.out)).toMatchObject([{ id: 'nightly', lastStatus: 'success' }]);
      // Reading left nothing behind.
      expect(readdirSync(join(dir, '.caretaker')).sort()).toEqual(['caretaker.db']);
    });

    it('sees the runs a live writer has in its write-ahead log', async () => {
      const { dir, db } = project();
      const writer = await recordRuns(db, 2, { keepOpen: true });
      try {
        readOnlyForOthers(dir);
        expect(existsSync(`${db}-wal`)).toBe(true);
        const history = asNobody(dir, 'history', '--json');
        expect(history.err).toBe('');
        expect(history.code).toBe(0);
        expect(JSON.parse(history.out)).toHaveLength(2);
      } finally {
        await writer.close();
      }
    });

    it('shows an empty history when there is no database yet, and creates none', () => {
      const { dir } = project();
      readOnlyForOthers(dir);
      const history = asNobody(dir, 'history');
      expect(history.err).toBe('');
      expect(history.code).toBe(0);
      expect(history.out).toMatch(/no runs yet/);
      expect(existsSync(join(dir, '.caretaker'))).toBe(false);
    });
  },
);
