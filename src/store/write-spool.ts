/**
 * A durable queue of store writes, in a small SQLite file under the state dir, for a scheduler
 * whose PostgreSQL store is unreachable: what cannot be written now survives a daemon restart and
 * is written, in order, when the server returns (engine/store-backlog.ts decides what goes in).
 *
 * Each write has a sequence number; `spoolId` (random, made with the file) and that number name it
 * for PgStore.applyOnce, which marks it applied in the same PostgreSQL transaction as the write
 * itself, so a crash between that commit and `done()` here replays it as a no-op. Provisional ids
 * handed out meanwhile, and the real ids they became, are kept too: a later spooled write that
 * refers to a run created during the outage finds its real id after a restart.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openSqlite, type SqliteDatabase } from './sqlite/driver.js';

export interface SpooledWrite {
  readonly seq: number;
  readonly method: string;
  readonly args: unknown[];
  readonly provisional?: number;
}

export interface SpoolContents {
  readonly writes: SpooledWrite[];
  /** provisional id → real id, of writes already applied. */
  readonly realIds: Map<number, number>;
  /** The lowest provisional id handed out (0 if none). */
  readonly lowestId: number;
}

export class WriteSpool {
  readonly #db: SqliteDatabase;
  /** Names this file's writes in PostgreSQL's spool_applied marks. */
  readonly spoolId: string;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#db = openSqlite(path);
    // Survives the process (a crash, a restart), not necessarily the machine losing power: an
    // fsync per write would cost ~15 ms on a plain disk, with a write every few ms in an outage.
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL, args TEXT NOT NULL, provisional INTEGER);
      CREATE TABLE IF NOT EXISTS ids (provisional INTEGER PRIMARY KEY, real INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    const row = this.#db.prepare<{ value: string }>(`SELECT value FROM meta WHERE key = 'spool_id'`).get();
    this.spoolId = row?.value ?? randomUUID();
    if (!row) this.#db.prepare(`INSERT INTO meta (key, value) VALUES ('spool_id', ?)`).run(this.spoolId);
  }

  load(): SpoolContents {
    const writes = this.#db
      .prepare<{ seq: number; method: string; args: string; provisional: number | null }>(
        `SELECT seq, method, args, provisional FROM writes ORDER BY seq`,
      )
      .all()
      .map((r) => ({
        seq: Number(r.seq),
        method: r.method,
        args: JSON.parse(r.args) as unknown[],
        ...(r.provisional === null ? {} : { provisional: Number(r.provisional) }),
      }));
    const realIds = new Map(
      this.#db
        .prepare<{ provisional: number; real: number }>(`SELECT provisional, real FROM ids`)
        .all()
        .map((r) => [Number(r.provisional), Number(r.real)] as const),
    );
    const low = this.#db.prepare<{ v: string }>(`SELECT value AS v FROM meta WHERE key = 'lowest_id'`).get();
    return { writes, realIds, lowestId: low ? Number(low.v) : 0 };
  }

  /** Appends a write; returns its sequence number. */
  push(method: string, args: readonly unknown[], provisional?: number): number {
    return this.#db.transaction(() => {
      const r = this.#db
        .prepare(`INSERT INTO writes (method, args, provisional) VALUES (?, ?, ?)`)
        .run(method, JSON.stringify(args), provisional ?? null);
      if (provisional !== undefined)
        this.#db
          .prepare(
            `INSERT INTO meta (key, value) VALUES ('lowest_id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          )
          .run(String(provisional));
      return Number(r.lastInsertRowid);
    });
  }

  /** The write is in the store (and, if it created something, that thing's real id). */
  done(seq: number, mapped?: { provisional: number; real: number }): void {
    this.#db.transaction(() => {
      this.#db.prepare(`DELETE FROM writes WHERE seq = ?`).run(seq);
      if (mapped)
        this.#db
          .prepare(`INSERT OR REPLACE INTO ids (provisional, real) VALUES (?, ?)`)
          .run(mapped.provisional, mapped.real);
    });
  }

  /** Nothing waits any more: the id map is not needed by a later start. */
  settle(): void {
    this.#db.exec(`DELETE FROM ids`);
  }

  close(): void {
    this.#db.close();
  }
}
