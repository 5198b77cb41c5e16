/**
 * The seam on better-sqlite3 (Node 20 and 21). driver.ts loads the module, only there; this
 * file imports its types alone, so nothing here loads the native addon.
 */
import { readFileSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import type {
  SqliteDatabase,
  SqliteOpenOptions,
  SqliteRunResult,
  SqliteStatement,
  TransactionMode,
} from './sqlite-database.js';
import { runTransaction } from './transaction.js';

type Ctor = new (filename: string | Buffer, options?: BetterSqlite3.Options) => BetterSqlite3.Database;

class BetterStatement<Row> implements SqliteStatement<Row> {
  constructor(readonly s: BetterSqlite3.Statement<unknown[], Row>) {}

  run(...params: unknown[]): SqliteRunResult {
    return this.s.run(...params);
  }

  get(...params: unknown[]): Row | undefined {
    return this.s.get(...params);
  }

  all(...params: unknown[]): Row[] {
    return this.s.all(...params);
  }

  iterate(...params: unknown[]): IterableIterator<Row> {
    return this.s.iterate(...params);
  }

  readBigInts(on: boolean): this {
    this.s.safeIntegers(on);
    return this;
  }
}

class BetterSqliteDatabase implements SqliteDatabase {
  readonly driver = 'better-sqlite3';
  readonly #db: BetterSqlite3.Database;
  readonly #sql = new Map<string, BetterSqlite3.Statement>();

  constructor(
    readonly path: string,
    db: BetterSqlite3.Database,
  ) {
    this.#db = db;
  }

  get isOpen(): boolean {
    return this.#db.open;
  }

  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  prepare<Row = unknown>(sql: string): SqliteStatement<Row> {
    return new BetterStatement<Row>(this.#db.prepare<unknown[], Row>(sql));
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  pragma(text: string): Record<string, unknown>[] {
    return this.#db.pragma(text) as Record<string, unknown>[];
  }

  pragmaValue(text: string): unknown {
    return this.#db.pragma(text, { simple: true });
  }

  runSql(sql: string): void {
    let s = this.#sql.get(sql);
    if (!s) this.#sql.set(sql, (s = this.#db.prepare(sql)));
    s.run();
  }

  transaction<T>(fn: () => T, mode: TransactionMode = 'deferred'): T {
    return runTransaction(this, fn, mode);
  }

  async backupTo(target: string): Promise<{ pages: number }> {
    // After the first step, copy the rest in one step: a write by another connection between
    // two steps restarts the copy, so a database written continuously might never finish. One
    // step holds one read transaction, which in WAL mode does not block writers.
    const info = await this.#db.backup(target, { progress: (p) => Math.max(100, p.remainingPages) });
    return { pages: info.totalPages };
  }

  close(): void {
    if (!this.#db.open) return;
    this.#sql.clear();
    this.#db.close();
  }
}

export function openBetterSqlite3(mod: unknown, path: string, opts: SqliteOpenOptions): SqliteDatabase {
  const Database = mod as Ctor;
  let db: BetterSqlite3.Database;
  if (opts.immutable) {
    // better-sqlite3 opens no URI filenames (so no `immutable=1`): read the file into memory
    // instead. A WAL-mode header (bytes 18-19 = 2) is set back to rollback mode, which an
    // in-memory copy needs; the file itself is never written.
    const image = readFileSync(path);
    if (image.length >= 20 && image[18] === 2) image[18] = image[19] = 1;
    db = new Database(image, { readonly: true });
  } else {
    db = new Database(path, {
      readonly: opts.readonly ?? false,
      fileMustExist: opts.fileMustExist ?? opts.readonly ?? false,
      timeout: Math.max(0, Math.round(opts.timeoutMs ?? 5000)),
    });
  }
  return new BetterSqliteDatabase(path, db);
}
