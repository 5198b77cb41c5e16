/** Small key/value facts about the store itself, in PostgreSQL. */
import type { PgDatabase } from './pg-database.js';

export class PgMetaRepo {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async get(key: string): Promise<string | undefined> {
    const r = await this.#db.query<{ value: string }>(`SELECT value FROM ${this.#db.s}.meta WHERE key = $1`, [
      key,
    ]);
    return r.rows[0]?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.#db.query(
      `INSERT INTO ${this.#db.s}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [key, value],
    );
  }
}
