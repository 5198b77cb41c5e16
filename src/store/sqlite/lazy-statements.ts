/**
 * Statements prepared on first use: a read-only store opened on a database of an older schema
 * still serves what that schema has, and a command prepares only what it runs.
 */
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js';

export function lazyStatements<K extends string>(
  db: SqliteDatabase,
  sql: Readonly<Record<K, string>>,
): Readonly<Record<K, SqliteStatement>> {
  const prepared = new Map<K, SqliteStatement>();
  const out = {} as Record<K, SqliteStatement>;
  for (const key of Object.keys(sql) as K[]) {
    Object.defineProperty(out, key, {
      enumerable: true,
      get: () => {
        let s = prepared.get(key);
        if (!s) prepared.set(key, (s = db.prepare(sql[key])));
        return s;
      },
    });
  }
  return out;
}
