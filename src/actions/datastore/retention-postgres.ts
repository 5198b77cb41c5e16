/**
 * db-retention on PostgreSQL. Each batch is one short transaction:
 *   BEGIN
 *   WITH batch AS (SELECT key … WHERE key > $after AND ts < $cutoff ORDER BY key LIMIT $n FOR UPDATE)
 *   DELETE … USING batch … RETURNING *          (the rows, deleted but not yet committed)
 *   (the caller writes the archive and fsyncs it)
 *   COMMIT
 * One pass over the rows. Only the batch's rows are locked, so the application's inserts and its
 * work on other rows never wait; a failed archive rolls the DELETE back. The DELETE takes exactly
 * the keys the locked SELECT chose, so a row that entered the key range meanwhile is not touched.
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

const ARCHIVE_FLAG = '__caretaker_archive';
const BATCH_KEY = '__caretaker_batch_key';
const NATIVE_TIME = /^(timestamp|date)\b/;
const INTEGER = /^(smallint|integer|bigint|numeric|double precision|real)\b/;

export async function openPgRetention(url: string, t: RetentionTarget): Promise<RetentionBackend> {
  const db = await PgSession.open({
    url,
    signal: t.signal,
    lockTimeoutMs: t.lockTimeoutMs,
    statementTimeoutMs: t.statementTimeoutMs,
    archiveTypes: true,
  });
  try {
    return await PgRetention.create(db, t);
  } catch (err) {
    await db.close();
    throw err;
  }
}

class PgRetention implements RetentionBackend {
  #inTx = false;

  private constructor(
    private readonly db: PgSession,
    readonly info: TableInfo,
    private readonly sql: {
      table: string;
      key: string;
      oldRows: string;
      cutoff: unknown;
      flag: string;
      archiving: boolean;
    },
  ) {}

  static async create(db: PgSession, t: RetentionTarget): Promise<PgRetention> {
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
    const flag =
      t.archiveWhere === undefined ? '' : `, ((${t.archiveWhere}) IS TRUE) AS ${pgIdent(ARCHIVE_FLAG)}`;
    const info = { label: table.label, keyColumn: keyName, columns: columns.map((c) => c.name) };
    const self = new PgRetention(db, info, {
      table: qTable,
      key,
      oldRows: `${pgIdent(ts.name)} < $1`,
      cutoff,
      flag,
      archiving: t.archiving,
    });
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

  async takeNextBatch(after: unknown, limit: number): Promise<LockedBatch | null> {
    const s = this.sql;
    const values: unknown[] = [s.cutoff, limit];
    let cond = s.oldRows;
    if (after !== undefined) {
      values.push(after);
      cond = `${s.key} > $3 AND ${cond}`;
    }
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
  }
}
