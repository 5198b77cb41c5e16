/**
 * Health samples in SQLite: `sample_keys` names each series once (task, key, unit), `samples`
 * holds (key id, instant, value) without a rowid — about 20 bytes a value, so a host checking
 * 50 values a minute keeps 90 days in a few hundred MB at most, and usually far less.
 */
import type { SampleInput, SampleKey, SamplePoint } from '../types.js';
import { lazyStatements } from './lazy-statements.js';
import type { SqliteDatabase } from './sqlite-database.js';

export class SamplesRepo {
  readonly #db: SqliteDatabase;
  readonly #keyIds = new Map<string, number>();
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#s = lazyStatements(db, {
      keyGet: `SELECT id FROM sample_keys WHERE task = ? AND key = ?`,
      keyInsert: `INSERT INTO sample_keys (task, key, unit, better) VALUES (?, ?, ?, ?)
        ON CONFLICT (task, key) DO UPDATE SET unit = excluded.unit, better = excluded.better RETURNING id`,
      insert: `INSERT INTO samples (key_id, at, value) VALUES (?, ?, ?)
        ON CONFLICT (key_id, at) DO UPDATE SET value = excluded.value`,
      series: `SELECT s.at, s.value FROM samples s JOIN sample_keys k ON k.id = s.key_id
        WHERE k.task = ? AND k.key = ? AND s.at >= ? ORDER BY s.at`,
      keys: `SELECT k.task, k.key, k.unit, k.better,
          (SELECT max(at) FROM samples WHERE key_id = k.id) AS last_at,
          (SELECT value FROM samples WHERE key_id = k.id ORDER BY at DESC LIMIT 1) AS last_value
        FROM sample_keys k WHERE (? IS NULL OR k.task = ?) ORDER BY k.task, k.key`,
      prune: `DELETE FROM samples WHERE (key_id, at) IN (SELECT key_id, at FROM samples WHERE at < ? LIMIT 5000)`,
    });
  }

  record(task: string, at: number, samples: readonly SampleInput[]): void {
    const added: string[] = [];
    try {
      this.#db.transaction(() => {
        for (const s of samples) {
          if (!Number.isFinite(s.value)) continue;
          const cacheKey = `${task}\u0000${s.key}\u0000${s.unit ?? ''}\u0000${s.better ?? ''}`;
          let id = this.#keyIds.get(cacheKey);
          if (id === undefined) {
            id = (this.#s.keyInsert.get(task, s.key, s.unit ?? null, s.better ?? null) as { id: number }).id;
            this.#keyIds.set(cacheKey, id);
            added.push(cacheKey);
          }
          this.#s.insert.run(id, at, s.value);
        }
      }, 'immediate');
    } catch (err) {
      // A key inserted by the rolled-back transaction does not exist: forget its cached id.
      for (const k of added) this.#keyIds.delete(k);
      throw err;
    }
  }

  series(task: string, key: string, since: number): SamplePoint[] {
    return this.#s.series.all(task, key, since) as SamplePoint[];
  }

  keys(task?: string): SampleKey[] {
    const rows = this.#s.keys.all(task ?? null, task ?? null) as {
      task: string;
      key: string;
      unit: string | null;
      better: 'lower' | 'higher' | null;
      last_at: number | null;
      last_value: number | null;
    }[];
    return rows.map((r) => ({
      task: r.task,
      key: r.key,
      unit: r.unit,
      better: r.better,
      lastAt: r.last_at,
      lastValue: r.last_value,
    }));
  }

  prune(before: number): number {
    let deleted = 0;
    for (;;) {
      const n = this.#s.prune.run(before).changes;
      deleted += n;
      if (n < 5000) return deleted;
    }
  }
}
