/** Small key/value facts about the store itself (the config last loaded, and the like). */
import { lazyStatements } from './lazy-statements.js';
import type { SqliteDatabase } from './sqlite-database.js';

export class MetaRepo {
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#s = lazyStatements(db, {
      get: `SELECT value FROM meta WHERE key = ?`,
      set: `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    });
  }

  get(key: string): string | undefined {
    return (this.#s.get.get(key) as { value: string } | undefined)?.value;
  }

  set(key: string, value: string): void {
    this.#s.set.run(key, value);
  }
}
