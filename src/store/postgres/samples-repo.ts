/** Health samples in PostgreSQL: `sample_keys` names each series once, `samples` holds (key id, instant, value). */
import type { SampleInput, SampleKey, SamplePoint } from '../types.js';
import type { PgDatabase } from './pg-database.js';

export class PgSamplesRepo {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async record(task: string, at: number, samples: readonly SampleInput[]): Promise<void> {
    const s = this.#db.s;
    const finite = samples.filter((x) => Number.isFinite(x.value));
    if (finite.length === 0) return;
    await this.#db.transaction(async (c) => {
      for (const x of finite) {
        const k = await c.query<{ id: number }>({
          name: 'ct_sample_key',
          text: `INSERT INTO ${s}.sample_keys (task, key, unit, better) VALUES ($1, $2, $3, $4)
            ON CONFLICT (task, key) DO UPDATE SET unit = excluded.unit, better = excluded.better RETURNING id`,
          values: [task, x.key, x.unit ?? null, x.better ?? null],
        });
        await c.query({
          name: 'ct_sample_insert',
          text: `INSERT INTO ${s}.samples (key_id, at, value) VALUES ($1, $2, $3)
            ON CONFLICT (key_id, at) DO UPDATE SET value = excluded.value`,
          values: [k.rows[0]!.id, at, x.value],
        });
      }
    });
  }

  async series(task: string, key: string, since: number): Promise<SamplePoint[]> {
    const r = await this.#db.query<{ at: number; value: number }>(
      `SELECT s.at, s.value FROM ${this.#db.s}.samples s JOIN ${this.#db.s}.sample_keys k ON k.id = s.key_id
        WHERE k.task = $1 AND k.key = $2 AND s.at >= $3 ORDER BY s.at`,
      [task, key, since],
    );
    return r.rows.map((x) => ({ at: x.at, value: x.value }));
  }

  async keys(task?: string): Promise<SampleKey[]> {
    const s = this.#db.s;
    const r = await this.#db.query<{
      task: string;
      key: string;
      unit: string | null;
      better: 'lower' | 'higher' | null;
      last_at: number | null;
      last_value: number | null;
    }>(
      `SELECT k.task, k.key, k.unit, k.better,
          (SELECT max(at) FROM ${s}.samples WHERE key_id = k.id) AS last_at,
          (SELECT value FROM ${s}.samples WHERE key_id = k.id ORDER BY at DESC LIMIT 1) AS last_value
        FROM ${s}.sample_keys k WHERE ($1::text IS NULL OR k.task = $1) ORDER BY k.task COLLATE "C", k.key COLLATE "C"`,
      [task ?? null],
    );
    return r.rows.map((x) => ({
      task: x.task,
      key: x.key,
      unit: x.unit,
      better: x.better,
      lastAt: x.last_at,
      lastValue: x.last_value,
    }));
  }

  async prune(before: number): Promise<number> {
    const s = this.#db.s;
    let deleted = 0;
    for (;;) {
      const n = (
        await this.#db.query(
          `DELETE FROM ${s}.samples WHERE (key_id, at) IN (SELECT key_id, at FROM ${s}.samples WHERE at < $1 LIMIT 5000)`,
          [before],
        )
      ).rowCount;
      deleted += n;
      if (n < 5000) return deleted;
    }
  }
}
