/**
 * db-retention on PostgreSQL. Without an archive, each batch is one short transaction:
 *   BEGIN
 *   WITH batch AS (SELECT key … WHERE key > $after AND ts < $cutoff ORDER BY key LIMIT $n FOR UPDATE)
 *   DELETE … USING batch … RETURNING *          (the rows, deleted but not yet committed)
 *   (the caller writes the archive and fsyncs it)
 *   COMMIT
 * One pass over the rows. Only the batch's rows are locked, so the application's inserts and its
 * work on other rows never wait; a failed archive rolls the DELETE back. The DELETE takes exactly
 * the keys the locked SELECT chose, so a row that entered the key range meanwhile is not touched.
 *
 * With an archive, the lock must not last through writing and fsyncing the file (that made the
 * application wait ~0.5 s on a busy disk), so batches are optimistic (`OptimisticRetention`):
 *   SELECT the rows (or their JSON lines, pg-json-line.ts), their xmin … LIMIT $n      (no lock)
 *   (the caller writes the archive and fsyncs it)
 *   DELETE … WHERE key > $from AND key <= $hi AND ts < $cutoff AND xmin = ANY($versions)
 * as one statement that fails, and so deletes nothing, unless it took exactly the rows read. A
 * row the application updated (or deleted and re-inserted) since the SELECT has a new xmin: that
 * of a transaction not yet committed when the SELECT took its snapshot, so not among the versions
 * read; a row inserted into the range since is not among them either. Then the DELETE is undone,
 * the archive discarded, and the range read again. The archive holds exactly the versions deleted.
 * Reads run on a second connection, so the next batch is read while this one is deleted.
 */
import { pgIdent, pgQualified } from './sql-identifier.js';
import { PgSession } from './pg-session.js';
import { pgColumns, pgPrimaryKey, requireColumn, resolvePgTable } from './pg-catalog.js';
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
import { pgJsonLine, type PgJsonLine } from './pg-json-line.js';
import type { OptimisticRetention, ReadBatch } from './retention-backend.js';

const ARCHIVE_FLAG = '__caretaker_archive';
const BATCH_KEY = '__caretaker_batch_key';
const VERSION = '__caretaker_version';
/** The text of the error that undoes an optimistic DELETE which did not take exactly its batch. */
const BATCH_CHANGED = 'caretaker: a row of the batch changed since it was read, rows deleted: ';
const NATIVE_TIME = /^(timestamp|date)\b/;
const INTEGER = /^(smallint|integer|bigint|numeric|double precision|real)\b/;

export async function openPgRetention(url: string, t: RetentionTarget): Promise<RetentionBackend> {
  const open = () =>
    PgSession.open({
      url,
      signal: t.signal,
      lockTimeoutMs: t.lockTimeoutMs,
      statementTimeoutMs: t.statementTimeoutMs,
      archiveTypes: true,
    });
  const db = await open();
  try {
    return await PgRetention.create(db, t, open);
  } catch (err) {
    await db.close();
    throw err;
  }
}

class PgRetention implements RetentionBackend, OptimisticRetention {
  #inTx = false;
  /** The second connection optimistic reads run on (opened on first use). */
  #reader: Promise<PgSession> | undefined;

  private constructor(
    private readonly db: PgSession,
    readonly info: TableInfo,
    private readonly sql: {
      table: string;
      key: string;
      oldRows: string;
      cutoff: unknown;
      flag: string;
      archiveCond: string | undefined;
      archiving: boolean;
      /** The JSON line built by the server, when every column allows it (JSON Lines archives). */
      line: PgJsonLine | undefined;
    },
    private readonly openReader: () => Promise<PgSession>,
  ) {}

  get optimistic(): OptimisticRetention | undefined {
    return this.sql.archiving ? this : undefined;
  }

  static async create(
    db: PgSession,
    t: RetentionTarget,
    openReader: () => Promise<PgSession>,
  ): Promise<PgRetention> {
    const table = await resolvePgTable(db, t.table, t.schema, 'table');
    const columns = await pgColumns(db, table);
    const ts = requireColumn(columns, t.timestampColumn, 'timestamp_column', table.label);
    let keyName = t.keyColumn;
    if (keyName === undefined) {
      const pk = await pgPrimaryKey(db, table);
      if (pk.length !== 1) {
        throw new SchemaMismatchError(
          `table ${table.label} has ${pk.length === 0 ? 'no primary key' : `a ${pk.length}-column primary key`}; ` +
            'set key_column to a unique, indexed column to batch by',
        );
      }
      keyName = pk[0]!;
    }
    requireColumn(columns, keyName, 'key_column', table.label);
    let cutoff: unknown;
    if (NATIVE_TIME.test(ts.type)) {
      if (t.timestampFormat !== undefined && t.timestampFormat !== 'iso') {
        throw new SchemaMismatchError(
          `timestamp_format: ${t.timestampFormat} is for integer columns; ${ts.name} is ${ts.type}`,
        );
      }
      // ISO 8601 in UTC; a `timestamp without time zone` column is therefore read as UTC.
      cutoff = new Date(t.cutoffMs).toISOString();
    } else if (INTEGER.test(ts.type)) {
      if (t.timestampFormat !== 'epoch_s' && t.timestampFormat !== 'epoch_ms') {
        throw new SchemaMismatchError(
          `timestamp_column ${ts.name} is ${ts.type}: set timestamp_format to epoch_s or epoch_ms`,
        );
      }
      cutoff = t.timestampFormat === 'epoch_s' ? Math.floor(t.cutoffMs / 1000) : t.cutoffMs;
    } else {
      throw new SchemaMismatchError(
        `timestamp_column ${ts.name} is ${ts.type}; expected a timestamp, date or integer (epoch) column`,
      );
    }
    const qTable = pgQualified(table.schema, table.name);
    const key = pgIdent(keyName);
    const archiveCond = t.archiveWhere === undefined ? undefined : `((${t.archiveWhere}) IS TRUE)`;
    const flag = archiveCond === undefined ? '' : `, ${archiveCond} AS ${pgIdent(ARCHIVE_FLAG)}`;
    const info = { label: table.label, keyColumn: keyName, columns: columns.map((c) => c.name) };
    const self = new PgRetention(
      db,
      info,
      {
        table: qTable,
        key,
        oldRows: `${pgIdent(ts.name)} < $1`,
        cutoff,
        flag,
        archiveCond,
        archiving: t.archiving,
        line: t.archiving && t.archiveFormat === 'jsonl' ? pgJsonLine(columns, 3) : undefined,
      },
      openReader,
    );
    if (t.archiveWhere !== undefined) {
      // Checks the expression once, up front: a typo fails here, before anything is deleted. The
      // parameter forces the extended protocol, which refuses a second statement smuggled in.
      try {
        await db.query(`SELECT $1::int ${flag} FROM ${qTable} t LIMIT 0`, [1]);
      } catch (err) {
        throw new SchemaMismatchError(
          `archive_where is not a valid condition on ${table.label}: ${db.describe(err)}`,
        );
      }
    }
    return self;
  }

  async countOld(): Promise<number> {
    const r = await this.db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${this.sql.table} WHERE ${this.sql.oldRows}`,
      [this.sql.cutoff],
    );
    return Number(r.rows[0]!.n);
  }

  async anyKeyExists(keys: readonly unknown[]): Promise<boolean> {
    const r = await this.db.query(
      `SELECT 1 FROM ${this.sql.table} WHERE ${this.sql.key} = ANY ($1) LIMIT 1`,
      [keys],
    );
    return r.rowCount !== null && r.rowCount > 0;
  }

  takeNextBatch(after: unknown, limit: number): Promise<LockedBatch | null> {
    return this.#take(after, limit, undefined);
  }

  takeRange(from: unknown, upTo: unknown): Promise<LockedBatch | null> {
    return this.#take(from, null, upTo);
  }

  async #take(after: unknown, limit: number | null, upTo: unknown): Promise<LockedBatch | null> {
    const s = this.sql;
    const values: unknown[] = [s.cutoff, limit];
    const cond = this.#range(values, after, upTo);
    // Without an archive only the count and the key range come back, not 5,000 rows to parse.
    const result = s.archiving
      ? `RETURNING t.*${s.flag}) SELECT * FROM gone ORDER BY ${s.key}`
      : `RETURNING t.${s.key} AS k)
         SELECT count(*)::int AS n, (array_agg(k ORDER BY k))[1] AS lo, (array_agg(k ORDER BY k DESC))[1] AS hi FROM gone`;
    const text = `WITH batch AS (
        SELECT ${s.key} AS ${BATCH_KEY} FROM ${s.table} WHERE ${cond} ORDER BY ${s.key} LIMIT $2 FOR UPDATE
      ), gone AS (
        DELETE FROM ${s.table} t USING batch WHERE t.${s.key} = batch.${BATCH_KEY} ${result}`;
    await this.db.query('BEGIN');
    this.#inTx = true;
    let rows: Record<string, unknown>[];
    try {
      rows = (await this.db.query(text, values)).rows;
    } catch (err) {
      await this.rollback();
      throw err;
    }
    if (!s.archiving) {
      const agg = rows[0] as { n: number; lo: unknown; hi: unknown };
      if (agg.n === 0) {
        await this.rollback();
        return null;
      }
      return { count: agg.n, archiveRows: [], lo: agg.lo, hi: agg.hi };
    }
    if (rows.length === 0) {
      await this.rollback();
      return null;
    }
    const archiveRows: Row[] = [];
    for (const r of rows) {
      const wanted = s.flag === '' || r[ARCHIVE_FLAG] === true;
      delete r[ARCHIVE_FLAG];
      if (wanted) archiveRows.push(r);
    }
    const key = this.info.keyColumn;
    return { count: rows.length, archiveRows, lo: rows[0]![key], hi: rows[rows.length - 1]![key] };
  }

  /** The WHERE condition of the old rows with a key in (after, upTo], its values appended to `values`. */
  #range(values: unknown[], after: unknown, upTo: unknown): string {
    const s = this.sql;
    let cond = s.oldRows;
    if (after !== undefined) {
      values.push(after);
      cond = `${s.key} > $${values.length} AND ${cond}`;
    }
    if (upTo !== undefined) {
      values.push(upTo);
      cond = `${s.key} <= $${values.length} AND ${cond}`;
    }
    return cond;
  }

  async readBatch(from: unknown, limit: number | null, upTo?: unknown): Promise<ReadBatch | null> {
    this.#reader ??= this.openReader();
    const reader = await this.#reader;
    return this.sql.line
      ? this.#readLines(reader, from, limit, upTo)
      : this.#readRows(reader, from, limit, upTo);
  }

  /**
   * The batch as one row: its archive text built by the server (pg-json-line.ts), the count, the
   * first and last key and the distinct versions, so that caretaker parses a handful of fields
   * per batch instead of every field of every row.
   */
  async #readLines(
    reader: PgSession,
    from: unknown,
    limit: number | null,
    upTo: unknown,
  ): Promise<ReadBatch | null> {
    const s = this.sql;
    const line = s.line!;
    const values: unknown[] = [s.cutoff, limit, line.prefixes]; // $3: the lines' key prefixes
    const cond = this.#range(values, from, upTo);
    const l = s.archiveCond === undefined ? line.sql : `CASE WHEN ${s.archiveCond} THEN ${line.sql} END`;
    const r = await reader.query<{
      n: number;
      a: number;
      text: string | null;
      lo: unknown;
      hi: unknown;
      v: string;
    }>(
      `SELECT count(*)::int AS n, count(b.l)::int AS a, string_agg(b.l || E'\\n', '' ORDER BY b.k) AS text,
              (array_agg(b.k ORDER BY b.k))[1] AS lo, (array_agg(b.k ORDER BY b.k DESC))[1] AS hi,
              array_agg(DISTINCT b.v)::text AS v
         FROM (SELECT t.${s.key} AS k, t.xmin::text AS v, ${l} AS l FROM ${s.table} t
                WHERE ${cond} ORDER BY ${s.key} LIMIT $2) b`,
      values,
    );
    const b = r.rows[0]!;
    if (b.n === 0) return null;
    return {
      count: b.n,
      from,
      lo: b.lo,
      hi: b.hi,
      versions: b.v,
      archiveRows: [],
      archiveText: b.text ?? '',
      archiveCount: b.a,
    };
  }

  /** The batch's rows, for caretaker to encode (CSV, or column types only JavaScript writes exactly). */
  async #readRows(
    reader: PgSession,
    from: unknown,
    limit: number | null,
    upTo: unknown,
  ): Promise<ReadBatch | null> {
    const s = this.sql;
    const values: unknown[] = [s.cutoff, limit];
    const cond = this.#range(values, from, upTo);
    const rows = (
      await reader.query<Record<string, unknown>>(
        `SELECT t.*${s.flag}, t.xmin::text AS ${pgIdent(VERSION)} FROM ${s.table} t WHERE ${cond} ORDER BY ${s.key} LIMIT $2`,
        values,
      )
    ).rows;
    if (rows.length === 0) return null;
    const versions = new Set<string>();
    const archiveRows: Row[] = [];
    for (const r of rows) {
      versions.add(r[VERSION] as string);
      const wanted = s.flag === '' || r[ARCHIVE_FLAG] === true;
      delete r[ARCHIVE_FLAG];
      delete r[VERSION];
      if (wanted) archiveRows.push(r);
    }
    const key = this.info.keyColumn;
    return {
      count: rows.length,
      from,
      lo: rows[0]![key],
      hi: rows[rows.length - 1]![key],
      versions: `{${[...versions].join(',')}}`,
      archiveRows,
      archiveCount: archiveRows.length,
    };
  }

  /**
   * One statement, in its own implicit transaction: the DELETE, and a check that fails the
   * statement — which undoes the DELETE — unless it took exactly the batch's rows. No BEGIN and
   * COMMIT round trips: the rows stay locked only while the server runs the statement and
   * commits, not while this process, on a busy machine, gets round to sending COMMIT.
   */
  async deleteUnchanged(batch: ReadBatch): Promise<number | null> {
    const s = this.sql;
    const values: unknown[] = [s.cutoff, batch.versions, batch.count];
    // The old rows of the batch's key range that are still the versions read: those it read,
    // unless one changed (its new xmin belongs to a transaction the read did not see committed).
    const cond = this.#range(values, batch.from, batch.hi);
    try {
      await this.db.query(
        `WITH gone AS (DELETE FROM ${s.table} t WHERE ${cond} AND t.xmin = ANY ($2::xid[]) RETURNING 1)
         SELECT CASE WHEN c.n = $3 THEN c.n ELSE ('${BATCH_CHANGED}' || c.n)::int END AS n
           FROM (SELECT count(*)::int AS n FROM gone) c`,
        values,
      );
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === '22P02' && e.message?.includes(BATCH_CHANGED)) return null;
      // The server answered with an error: the statement, DELETE included, was rolled back.
      if (e.code !== undefined && /^[0-9A-Z]{5}$/.test(e.code)) throw err;
      // No answer (the connection went): whether it committed is unknown; recovery decides.
      throw new CommitUncertainError(`DELETE failed: ${this.db.describe(err)}`, { cause: err });
    }
    return batch.count;
  }

  async commitBatch(batch: LockedBatch): Promise<number> {
    try {
      await this.db.query('COMMIT');
      this.#inTx = false;
    } catch (err) {
      this.#inTx = false;
      throw new CommitUncertainError(`COMMIT failed: ${this.db.describe(err)}`, { cause: err });
    }
    return batch.count;
  }

  async rollback(): Promise<void> {
    if (!this.#inTx) return;
    this.#inTx = false;
    await this.db.query('ROLLBACK').catch(() => {});
  }

  async previewNextBatch(after: unknown, limit: number): Promise<BatchPreview | null> {
    const s = this.sql;
    const values: unknown[] = [s.cutoff, limit];
    let cond = s.oldRows;
    if (after !== undefined) {
      values.push(after);
      cond = `${s.key} > $3 AND ${cond}`;
    }
    const rows = (
      await this.db.query<Record<string, unknown>>(
        `SELECT ${s.key} AS k${s.flag} FROM ${s.table} t WHERE ${cond} ORDER BY ${s.key} LIMIT $2`,
        values,
      )
    ).rows;
    if (rows.length === 0) return null;
    const archived = s.flag === '' ? rows.length : rows.filter((r) => r[ARCHIVE_FLAG] === true).length;
    return { count: rows.length, archived, lo: rows[0]!.k, hi: rows[rows.length - 1]!.k };
  }

  describe(err: unknown): string {
    return this.db.describe(err);
  }

  async close(): Promise<void> {
    await this.rollback();
    await this.db.close();
    if (this.#reader) await (await this.#reader.catch(() => undefined))?.close();
  }
}
