/**
 * The reads of `caretaker store copy` from a SQLite history (store/copy-roles.ts HistoryExport):
 * runs in id order from a mark, every task state, every ping, and the database's own id.
 */
import { randomUUID } from 'node:crypto';
import type { HostTaskState } from '../copy-roles.js';
import type { PingRecord, RunRecord } from '../types.js';
import { lazyStatements } from './lazy-statements.js';
import { toRunRecord, toTaskState, type RunRow } from './run-row.js';
import type { SqliteDatabase } from './sqlite-database.js';

const SOURCE_ID_KEY = 'store.id';

export class ExportRepo {
  readonly #db: SqliteDatabase;
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#s = lazyStatements(db, {
      runsAfter: `SELECT * FROM runs WHERE id > ? ORDER BY id LIMIT ?`,
      states: `SELECT * FROM task_state ORDER BY host, task`,
      pings: `SELECT * FROM pings ORDER BY id`,
      getId: `SELECT value FROM meta WHERE key = '${SOURCE_ID_KEY}'`,
      // Two copies starting at once agree on one id: the first insert wins.
      setId: `INSERT INTO meta (key, value) VALUES ('${SOURCE_ID_KEY}', ?) ON CONFLICT (key) DO NOTHING`,
    });
  }

  sourceId(): string {
    const get = () => (this.#s.getId.get() as { value: string } | undefined)?.value;
    const id = get();
    if (id !== undefined) return id;
    this.#db.transaction(() => this.#s.setId.run(randomUUID()), 'immediate');
    return get()!;
  }

  runsAfter(afterId: number, limit: number): RunRecord[] {
    return (this.#s.runsAfter.all(afterId, limit) as RunRow[]).map(toRunRecord);
  }

  allTaskStates(): HostTaskState[] {
    return (this.#s.states.all() as Record<string, unknown>[]).map((r) => ({
      ...toTaskState(r),
      host: r.host as string,
    }));
  }

  allPings(): PingRecord[] {
    const rows = this.#s.pings.all() as {
      name: string;
      at: number;
      ok: number;
      source: string | null;
      message: string | null;
    }[];
    return rows.map((r) => ({
      name: r.name,
      at: r.at,
      ok: r.ok === 1,
      source: r.source,
      message: r.message,
    }));
  }
}
