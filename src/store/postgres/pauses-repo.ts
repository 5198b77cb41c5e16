/** Paused tasks (PausesStore) in PostgreSQL: one row per task id, so a pause holds fleet-wide. */
import type { PauseRecord } from '../types.js';
import type { PgDatabase } from './pg-database.js';
import { pgText } from './pg-text.js';

interface PauseRow {
  task: string;
  paused_by: string;
  reason: string | null;
  paused_at: string | number;
}

const record = (r: PauseRow): PauseRecord => ({
  task: r.task,
  by: r.paused_by,
  reason: r.reason,
  at: Number(r.paused_at),
});

const COLUMNS = 'task, paused_by, reason, paused_at';

export class PgPausesRepo {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async pause(
    task: string,
    p: { by: string; reason: string | null; at: number },
  ): Promise<{ paused: boolean; record: PauseRecord }> {
    const s = this.#db.s;
    // One statement: of two hosts pausing at once, one inserts; the other reads the first's row.
    const r = await this.#db.query<PauseRow & { inserted: boolean }>(
      `WITH ins AS (
         INSERT INTO ${s}.pauses (${COLUMNS}) VALUES ($1, $2, $3, $4)
         ON CONFLICT (task) DO NOTHING RETURNING ${COLUMNS}
       )
       SELECT ${COLUMNS}, true AS inserted FROM ins
       UNION ALL
       SELECT ${COLUMNS}, false AS inserted FROM ${s}.pauses WHERE task = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [task, pgText(p.by), pgText(p.reason), p.at],
    );
    const row = r.rows[0];
    if (row) return { paused: row.inserted, record: record(row) };
    // The row was inserted by a transaction that committed after this statement's snapshot:
    // read it now.
    const again = await this.#db.query<PauseRow>(`SELECT ${COLUMNS} FROM ${s}.pauses WHERE task = $1`, [
      task,
    ]);
    return { paused: false, record: record(again.rows[0]!) };
  }

  async resume(task: string): Promise<PauseRecord | undefined> {
    const r = await this.#db.query<PauseRow>(
      `DELETE FROM ${this.#db.s}.pauses WHERE task = $1 RETURNING ${COLUMNS}`,
      [task],
    );
    return r.rows[0] ? record(r.rows[0]) : undefined;
  }

  async list(): Promise<PauseRecord[]> {
    const r = await this.#db.query<PauseRow>(`SELECT ${COLUMNS} FROM ${this.#db.s}.pauses ORDER BY task`);
    return r.rows.map(record);
  }
}
