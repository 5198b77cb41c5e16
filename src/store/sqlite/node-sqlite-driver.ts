/**
 * The seam on Node's built-in `node:sqlite` (DatabaseSync). The module is passed in by
 * driver.ts, which loads it once; its types are declared here because @types/node 20 has none.
 */
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type {
  SqliteDatabase,
  SqliteOpenOptions,
  SqliteRunResult,
  SqliteStatement,
  TransactionMode,
} from './sqlite-database.js';
import { runTransaction } from './transaction.js';

interface NodeStatementSync {
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate?(...params: unknown[]): IterableIterator<unknown>;
  setReadBigInts(on: boolean): void;
  setAllowUnknownNamedParameters?(on: boolean): void;
}

interface NodeDatabaseSync {
  prepare(sql: string): NodeStatementSync;
  exec(sql: string): void;
  close(): void;
  readonly isOpen?: boolean;
  readonly isTransaction?: boolean;
}

export interface NodeSqliteModule {
  DatabaseSync: new (path: string | URL, options?: Record<string, unknown>) => NodeDatabaseSync;
  /** Node 22.16 and later. */
  backup?: (db: NodeDatabaseSync, path: string, options?: { rate?: number }) => Promise<number>;
}

class NodeStatement<Row> implements SqliteStatement<Row> {
  constructor(readonly s: NodeStatementSync) {
    // better-sqlite3 ignores named parameters a statement does not use; so does the seam.
    s.setAllowUnknownNamedParameters?.(true);
  }

  run(...params: unknown[]): SqliteRunResult {
    const r = this.s.run(...params);
    return { changes: Number(r.changes), lastInsertRowid: r.lastInsertRowid };
  }

  get(...params: unknown[]): Row | undefined {
    return this.s.get(...params) as Row | undefined;
  }

  all(...params: unknown[]): Row[] {
    return this.s.all(...params) as Row[];
  }

  iterate(...params: unknown[]): IterableIterator<Row> {
    if (this.s.iterate) return this.s.iterate(...params) as IterableIterator<Row>;
    return (this.s.all(...params) as Row[])[Symbol.iterator]();
  }

  readBigInts(on: boolean): this {
    this.s.setReadBigInts(on);
    return this;
  }
}

class NodeSqliteDatabase implements SqliteDatabase {
  readonly driver = 'node:sqlite';
  readonly #db: NodeDatabaseSync;
  readonly #sql = new Map<string, NodeStatementSync>();
  #open = true;
  /** Only where DatabaseSync has no isTransaction (before Node 22.16). */
  #inTx = false;

  constructor(
    readonly path: string,
    db: NodeDatabaseSync,
    private readonly mod: NodeSqliteModule,
  ) {
    this.#db = db;
  }

  get isOpen(): boolean {
    return this.#db.isOpen ?? this.#open;
  }

  get inTransaction(): boolean {
    return this.#db.isTransaction ?? this.#inTx;
  }

  prepare<Row = unknown>(sql: string): SqliteStatement<Row> {
    return new NodeStatement<Row>(this.#db.prepare(sql));
  }

  exec(sql: string): void {
    this.#track(sql);
    this.#db.exec(sql);
  }

  /** Before Node 22.16 DatabaseSync cannot say whether a transaction is open: follow our own. */
  #track(sql: string): void {
    if (this.#db.isTransaction !== undefined) return;
    const verb = /^\s*(BEGIN|COMMIT|END|ROLLBACK)\b(\s+TO\b)?/i.exec(sql);
    if (!verb || verb[2]) return;
    // Cleared before a ROLLBACK runs: it fails when SQLite already rolled back by itself.
    this.#inTx = verb[1]!.toUpperCase() === 'BEGIN';
  }

  pragma(text: string): Record<string, unknown>[] {
    return this.#db.prepare(`PRAGMA ${text}`).all() as Record<string, unknown>[];
  }

  pragmaValue(text: string): unknown {
    const row = this.#db.prepare(`PRAGMA ${text}`).get() as Record<string, unknown> | undefined;
    return row === undefined ? undefined : Object.values(row)[0];
  }

  runSql(sql: string): void {
    let s = this.#sql.get(sql);
    if (!s) this.#sql.set(sql, (s = this.#db.prepare(sql)));
    if (sql.startsWith('ROLLBACK')) this.#track(sql);
    s.run();
    if (!sql.startsWith('ROLLBACK')) this.#track(sql);
  }

  transaction<T>(fn: () => T, mode: TransactionMode = 'deferred'): T {
    return runTransaction(this, fn, mode);
  }

  async backupTo(target: string): Promise<{ pages: number }> {
    if (this.mod.backup) {
      // Every page in one step, under one read transaction: in steps, a write by another
      // connection between two steps restarts the copy, which might then never finish. (SQLite's
      // "all pages" is -1, which Node 24 refuses: the largest positive rate means the same.)
      const pages = await this.mod.backup(this.#db, target, { rate: 0x7fffffff });
      return { pages };
    }
    // Before Node 22.16: VACUUM INTO writes what one read transaction sees, equally consistent.
    this.#db.prepare('VACUUM INTO ?').run(target);
    const pageSize = Number(this.pragmaValue('page_size'));
    return { pages: Math.ceil(statSync(target).size / pageSize) };
  }

  close(): void {
    if (!this.isOpen) return;
    this.#sql.clear();
    this.#db.close();
    this.#open = false;
  }
}

export function openNodeSqlite(mod: NodeSqliteModule, path: string, opts: SqliteOpenOptions): SqliteDatabase {
  let db: NodeDatabaseSync;
  if (opts.immutable) {
    // immutable=1: no locks and no -shm; SQLite trusts the file not to change while open.
    const url = pathToFileURL(path);
    url.searchParams.set('immutable', '1');
    db = new mod.DatabaseSync(url, { readOnly: true });
  } else {
    db = new mod.DatabaseSync(path, { readOnly: opts.readonly ?? false });
  }
  const wrapped = new NodeSqliteDatabase(path, db, mod);
  try {
    wrapped.pragma(`busy_timeout = ${Math.max(0, Math.round(opts.timeoutMs ?? 5000))}`);
  } catch (err) {
    wrapped.close();
    throw err;
  }
  return wrapped;
}
