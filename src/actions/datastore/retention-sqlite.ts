/**
 * db-retention on SQLite. Each batch is one BEGIN IMMEDIATE transaction: the write lock is taken
 * up front (so no other writer can change the batch between the read and the delete), the batch
 * is read, archived by the caller, deleted by its key range, committed. The lock is held for one
 * batch only; other connections wait up to `lock_timeout` (busy timeout) meanwhile.
 */
import { existsSync } from 'node:fs';
import { didYouMean } from '../../core/did-you-mean.js';
import { openSqlite, type SqliteDatabase } from '../../store/sqlite/driver.js';
import { sqliteIdent } from './sql-identifier.js';
import { requireColumn } from './pg-catalog.js';
import { SchemaMismatchError } from './schema-mismatch-error.js';
import {
  CommitUncertainError,
  type BatchPreview,
  type LockedBatch,
  type RetentionBackend,
  type RetentionTarget,
  type TableInfo,
} from './retention-backend.js';
import type { Row } from './archive-format.js';

const ARCHIVE_FLAG = '__caretaker_archive';

interface ColumnInfo {
  name: string;
  type: string;
  pk: number;
  hidden: number;
}

export function openSqliteRetention(path: string, t: RetentionTarget): Promise<RetentionBackend> {
  if (!existsSync(path))
    return Promise.reject(new SchemaMismatchError(`SQLite database ${path} does not exist`));
  const db = openSqlite(path, { fileMustExist: true, timeoutMs: t.lockTimeoutMs });
  try {
    return Promise.resolve(SqliteRetention.create(db, t));
  } catch (err) {
    db.close();
    return Promise.reject(err as Error);
  }
}

class SqliteRetention implements RetentionBackend {
  #inTx = false;

  private constructor(
    private readonly db: SqliteDatabase,
    readonly info: TableInfo,
    private readonly sql: {
      table: string;
      key: string;
      oldRows: string;
      cutoff: unknown;
      select: string;
      flag: string;
      archiving: boolean;
    },
  ) {}

  static create(db: SqliteDatabase, t: RetentionTarget): SqliteRetention {
    const found = db
      .prepare<{ name: string }>(
        `SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE`,
      )
      .get(t.table);
    if (!found) {
      const names = db
        .prepare<{ name: string }>(`SELECT name FROM sqlite_schema WHERE type = 'table'`)
        .all()
        .map((r) => r.name);
      throw new SchemaMismatchError(
        `table: table ${JSON.stringify(t.table)} does not exist${didYouMean(t.table, names)}`,
      );
    }
    const table = found.name;
    const qTable = sqliteIdent(table);
    const columns = db
      .prepare<ColumnInfo>(`SELECT name, type, pk, hidden FROM pragma_table_xinfo(?)`)
      .all(table)
      .filter((c) => c.hidden === 0);
    const ts = requireColumn(columns, t.timestampColumn, 'timestamp_column', table);
    let archivedColumns = columns.map((c) => c.name);
    let keyName = 'rowid';
    let select = '*';
    const implicitRowid = () => {
      // No declared key: SQLite's implicit rowid orders and identifies the rows; it is archived too.
      keyName = 'rowid';
      select = `rowid AS "rowid", *`;
      archivedColumns = ['rowid', ...archivedColumns];
      return 'rowid';
    };
    let key: string;
    if (t.keyColumn === 'rowid' && !columns.some((c) => c.name === 'rowid')) key = implicitRowid();
    else if (t.keyColumn !== undefined) {
      keyName = requireColumn(columns, t.keyColumn, 'key_column', table).name;
      key = sqliteIdent(keyName);
    } else {
      const pk = columns.filter((c) => c.pk > 0);
      if (pk.length > 1) {
        throw new SchemaMismatchError(
          `table ${table} has a ${pk.length}-column primary key; set key_column to a unique, indexed column`,
        );
      }
      if (pk.length === 1) {
        keyName = pk[0]!.name;
        key = sqliteIdent(keyName);
      } else key = implicitRowid();
    }
    const declared = ts.type.toUpperCase();
    const integerColumn = /INT/.test(declared);
    const format = t.timestampFormat ?? (integerColumn ? undefined : 'iso');
    if (format === undefined) {
      throw new SchemaMismatchError(
        `timestamp_column ${ts.name} is declared ${ts.type}: set timestamp_format to epoch_s, epoch_ms or iso`,
      );
    }
    const qTs = sqliteIdent(ts.name);
    // julianday() reads both '2026-01-01 02:00:00' and '2026-01-01T02:00:00.000Z'; an unparseable
    // value gives NULL, which is never "older", so such rows are left alone.
    const oldRows = format === 'iso' ? `julianday(${qTs}) < julianday(?)` : `${qTs} < ?`;
    const cutoff =
      format === 'iso'
        ? new Date(t.cutoffMs).toISOString()
        : format === 'epoch_s'
          ? Math.floor(t.cutoffMs / 1000)
          : t.cutoffMs;
    const flag =
      t.archiveWhere === undefined ? '' : `, ((${t.archiveWhere}) IS TRUE) AS ${sqliteIdent(ARCHIVE_FLAG)}`;
    if (t.archiveWhere !== undefined) {
      try {
        db.prepare(`SELECT 1 ${flag} FROM ${qTable} LIMIT 0`); // prepare refuses a second statement
      } catch (err) {
        throw new SchemaMismatchError(
          `archive_where is not a valid condition on ${table}: ${(err as Error).message}`,
        );
      }
    }
    const info = { label: table, keyColumn: keyName, columns: archivedColumns };
    return new SqliteRetention(db, info, {
      table: qTable,
      key,
      oldRows,
      cutoff,
      select,
      flag,
      archiving: t.archiving,
    });
  }

  countOld(): Promise<number> {
    const r = this.db
      .prepare<{ n: number }>(`SELECT count(*) AS n FROM ${this.sql.table} WHERE ${this.sql.oldRows}`)
      .get(this.sql.cutoff);
    return Promise.resolve(r!.n);
  }

  anyKeyExists(keys: readonly unknown[]): Promise<boolean> {
    // json_each yields typed values; the key column's affinity converts text keys read from a CSV.
    const json = `[${keys.map((k) => (typeof k === 'bigint' ? k.toString() : JSON.stringify(k))).join(',')}]`;
    const r = this.db
      .prepare(
        `SELECT 1 FROM ${this.sql.table} WHERE ${this.sql.key} IN (SELECT value FROM json_each(?)) LIMIT 1`,
      )
      .get(json);
    return Promise.resolve(r !== undefined);
  }

  #select(after: unknown, columns: string, limit: number): Record<string, unknown>[] {
    const cond = after === undefined ? this.sql.oldRows : `${this.sql.key} > ? AND ${this.sql.oldRows}`;
    const params = after === undefined ? [this.sql.cutoff, limit] : [after, this.sql.cutoff, limit];
    const stmt = this.db.prepare(
      `SELECT ${columns} FROM ${this.sql.table} WHERE ${cond} ORDER BY ${this.sql.key} LIMIT ?`,
    );
    stmt.readBigInts(true); // 64-bit ids stay exact; the archive writer turns them into numbers or text
    return stmt.all(...params) as Record<string, unknown>[];
  }

  takeNextBatch(after: unknown, limit: number): Promise<LockedBatch | null> {
    this.db.exec('BEGIN IMMEDIATE');
    this.#inTx = true;
    let rows: Record<string, unknown>[];
    try {
      // Without an archive only the keys are read.
      const columns = this.sql.archiving ? `${this.sql.select}${this.sql.flag}` : `${this.sql.key} AS k`;
      rows = this.#select(after, columns, limit);
    } catch (err) {
      this.#rollbackSync();
      return Promise.reject(err as Error);
    }
    if (rows.length === 0) {
      this.#rollbackSync();
      return Promise.resolve(null);
    }
    if (!this.sql.archiving) {
      return Promise.resolve({
        count: rows.length,
        archiveRows: [],
        lo: rows[0]!.k,
        hi: rows[rows.length - 1]!.k,
      });
    }
    const archiveRows: Row[] = [];
    for (const r of rows) {
      const flag = r[ARCHIVE_FLAG];
      delete r[ARCHIVE_FLAG];
      if (flag === undefined || flag === 1n || flag === 1) archiveRows.push(r);
    }
    const key = this.info.keyColumn;
    return Promise.resolve({
      count: rows.length,
      archiveRows,
      lo: rows[0]![key],
      hi: rows[rows.length - 1]![key],
    });
  }

  commitBatch(batch: LockedBatch): Promise<number> {
    let deleted: number;
    try {
      // The write lock has been held since the read, so the range holds exactly the batch's rows.
      deleted = this.db
        .prepare(
          `DELETE FROM ${this.sql.table} WHERE ${this.sql.key} BETWEEN ? AND ? AND ${this.sql.oldRows}`,
        )
        .run(batch.lo, batch.hi, this.sql.cutoff).changes;
    } catch (err) {
      this.#rollbackSync();
      return Promise.reject(err as Error);
    }
    try {
      this.db.exec('COMMIT');
      this.#inTx = false;
    } catch (err) {
      this.#inTx = false;
      return Promise.reject(
        new CommitUncertainError(`COMMIT failed: ${(err as Error).message}`, { cause: err }),
      );
    }
    return Promise.resolve(deleted);
  }

  #rollbackSync(): void {
    if (!this.#inTx) return;
    this.#inTx = false;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  rollback(): Promise<void> {
    this.#rollbackSync();
    return Promise.resolve();
  }

  previewNextBatch(after: unknown, limit: number): Promise<BatchPreview | null> {
    const rows = this.#select(after, `${this.sql.key} AS k${this.sql.flag}`, limit);
    if (rows.length === 0) return Promise.resolve(null);
    const archived = rows.filter((r) => r[ARCHIVE_FLAG] === undefined || r[ARCHIVE_FLAG] === 1n).length;
    return Promise.resolve({ count: rows.length, archived, lo: rows[0]!.k, hi: rows[rows.length - 1]!.k });
  }

  describe(err: unknown): string {
    return (err as Error).message.split('\n')[0] ?? String(err);
  }

  close(): Promise<void> {
    this.#rollbackSync();
    this.db.close();
    return Promise.resolve();
  }
}
