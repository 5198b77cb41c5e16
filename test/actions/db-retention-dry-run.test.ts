/**
 * db-retention's dry run on SQLite, through the engine as `run-task --dry-run` runs it, with the
 * demo's own `trim-metrics` task: SQLite keys are read as BigInt (exact 64-bit ids), and a result
 * holding one could not be stored ("Do not know how to serialize a BigInt"), so every such dry run
 * failed.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createCaretaker } from '../../src/create-caretaker.js';
import { ManualClock } from '../../src/engine/clock.js';
import { openSqlite } from '../../src/store/sqlite/driver.js';
import { tempDir } from '../support/tmp.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const DAY = 86_400_000;

describe('db-retention dry run on SQLite', () => {
  it("plans the demo's trim-metrics task and is stored like any run", async () => {
    const demo = parse(
      readFileSync(join(import.meta.dirname, '../../examples/demo/caretaker.yaml'), 'utf8'),
    ) as {
      tasks: Record<string, { action: string; with: Record<string, unknown> }>;
    };
    const task = demo.tasks['trim-metrics']!;
    const dir = tempDir();
    const dbPath = join(dir, task.with.path as string);
    mkdirSync(join(dbPath, '..'), { recursive: true });
    const db = openSqlite(dbPath);
    // The table as the demo's record-metrics module creates it; ids beyond 2^53 stay exact as text.
    db.exec(
      'CREATE TABLE samples (id INTEGER PRIMARY KEY, at TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL)',
    );
    const insert = db.prepare('INSERT INTO samples (id, at, name, value) VALUES (?, ?, ?, ?)');
    for (let i = 1; i <= 30; i++)
      insert.run(i, new Date(NOW - 3 * DAY + i * 1000).toISOString(), 'log_bytes', i);
    insert.run(2n ** 60n, new Date(NOW - 2 * DAY).toISOString(), 'log_bytes', 0);
    insert.run(2n ** 60n + 1n, new Date(NOW).toISOString(), 'log_bytes', 0);
    db.close();
    const ct = createCaretaker({
      configText: `version: 1\nstate_dir: state\ntasks:\n  trim-metrics:\n    action: ${task.action}\n    with: ${JSON.stringify(task.with)}\n`,
      baseDir: dir,
      clock: new ManualClock(NOW),
      host: 'test-host',
    });
    try {
      const run = await ct.runNow('trim-metrics', { dryRun: true });
      expect(run.reason).toBeNull();
      expect(run.status).toBe('success');
      expect(run.result?.summary).toMatch(
        /^would delete 31 of 31 rows older than .* from samples in 1 batch/,
      );
      expect(run.result?.details?.batches).toEqual([
        { rows: 31, archive: 31, lo: 1, hi: '1152921504606846976' },
      ]);
      const [stored] = await ct.history({ task: 'trim-metrics', limit: 1 });
      expect(stored!.result?.plan?.at(-1)).toMatch(/^batch 1: id 1\.\.1152921504606846976: delete 31 rows/);
      // Nothing was deleted.
      const check = openSqlite(dbPath, { readonly: true });
      expect(Number((check.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n)).toBe(32);
      check.close();
    } finally {
      await ct.close();
    }
  });
});
