/** The SQLite seam's interface, implemented by node-sqlite-driver.ts and better-sqlite3-driver.ts. */
export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

export interface SqliteRunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

/**
 * A prepared statement. Parameters are positional (`?`) or one object of named ones (`@name`
 * bound from `{ name }`; keys the statement does not use are ignored by both drivers).
 */
export interface SqliteStatement<Row = unknown> {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): Row | undefined;
  all(...params: unknown[]): Row[];
  iterate(...params: unknown[]): IterableIterator<Row>;
  /** Read INTEGER columns as bigint, so 64-bit values stay exact. */
  readBigInts(on: boolean): this;
}

export type TransactionMode = 'deferred' | 'immediate' | 'exclusive';

export interface SqliteDatabase {
  readonly driver: SqliteDriverName;
  /** The file (or `:memory:`). */
  readonly path: string;
  readonly isOpen: boolean;
  readonly inTransaction: boolean;
  prepare<Row = unknown>(sql: string): SqliteStatement<Row>;
  /** Runs one or more statements that return nothing. */
  exec(sql: string): void;
  /** `PRAGMA <text>`, its rows (none for a setting that returns nothing). */
  pragma(text: string): Record<string, unknown>[];
  /** The first column of the first row of `PRAGMA <text>`. */
  pragmaValue(text: string): unknown;
  /**
   * Runs `fn` in a transaction: committed when it returns, rolled back when it (or the COMMIT)
   * throws, so a failed write never leaves a transaction open. Nested calls use a savepoint.
   */
  transaction<T>(fn: () => T, mode?: TransactionMode): T;
  /**
   * A consistent copy of the database at one instant (what one read transaction sees), written
   * to `target`, which must not exist. Writers in WAL mode are not blocked meanwhile.
   */
  backupTo(target: string): Promise<{ pages: number }>;
  close(): void;
}

export interface SqliteOpenOptions {
  /** Open without write access (the file must exist). @default false */
  readonly readonly?: boolean;
  /** Fail instead of creating a missing file. @default false */
  readonly fileMustExist?: boolean;
  /** How long to wait for another connection's lock (busy_timeout). @default 5000 */
  readonly timeoutMs?: number;
  /**
   * Read a database at rest that nothing writes meanwhile, taking no locks and needing no
   * `-shm` file: for a read-only user of a WAL database whose directory they cannot write.
   * Implies `readonly`. The file must have no `-wal` file with content SQLite would need.
   * @default false
   */
  readonly immutable?: boolean;
  /** Use this driver instead of the one chosen for this Node (tests, benchmarks). */
  readonly driver?: SqliteDriverName;
}

/** Implemented by each driver file. */
export type DriverOpen = (path: string, opts: SqliteOpenOptions) => SqliteDatabase;
