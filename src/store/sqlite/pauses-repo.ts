/** Paused tasks (PausesStore) in SQLite: one row per task id. */
import { textWithoutNul } from '../text-without-nul.js';
import type { PauseRecord } from '../types.js';
import { lazyStatements } from './lazy-statements.js';
import type { SqliteDatabase } from './sqlite-database.js';

interface PauseRow {
  task: string;
  paused_by: string;
  reason: string | null;
  paused_at: number | bigint;
}

const record = (r: PauseRow): PauseRecord => ({
  task: r.task,
  by: r.paused_by,
  reason: r.reason,
  at: Number(r.paused_at),
});

export class PausesRepo {
  readonly #db: SqliteDatabase;
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#s = lazyStatements(db, {
      // The first pause stays: who paused the task, and since when, is what an operator asks.
      insert: `INSERT INTO pauses (task, paused_by, reason, paused_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (task) DO NOTHING`,
      get: `SELECT task, paused_by, reason, paused_at FROM pauses WHERE task = ?`,
      remove: `DELETE FROM pauses WHERE task = ?`,
      list: `SELECT task, paused_by, reason, paused_at FROM pauses ORDER BY task`,
      exists: `SELECT 1 AS x FROM sqlite_schema WHERE type = 'table' AND name = 'pauses'`,
    });
  }

  pause(
    task: string,
    p: { by: string; reason: string | null; at: number },
  ): { paused: boolean; record: PauseRecord } {
    return this.#db.transaction(() => {
      const changed =
        Number(this.#s.insert.run(task, textWithoutNul(p.by), textWithoutNul(p.reason), p.at).changes) === 1;
      return { paused: changed, record: record(this.#s.get.get(task) as unknown as PauseRow) };
    }, 'immediate');
  }

  resume(task: string): PauseRecord | undefined {
    return this.#db.transaction(() => {
      const row = this.#s.get.get(task) as unknown as PauseRow | undefined;
      if (row) this.#s.remove.run(task);
      return row ? record(row) : undefined;
    }, 'immediate');
  }

  /** A read-only store on a database from before migration 8 has no pauses table: none paused. */
  list(): PauseRecord[] {
    if (!this.#s.exists.get()) return [];
    return (this.#s.list.all() as unknown as PauseRow[]).map(record);
  }
}
