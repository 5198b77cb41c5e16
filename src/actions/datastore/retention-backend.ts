/** What db-retention needs from a database, implemented for PostgreSQL and SQLite. */
import type { ArchiveFormat, Row } from './archive-format.js';

export type TimestampFormat = 'iso' | 'epoch_s' | 'epoch_ms';

export interface RetentionTarget {
  readonly table: string;
  /** PostgreSQL only: the table's schema. @default the first schema on the search path holding it */
  readonly schema?: string | undefined;
  readonly timestampColumn: string;
  readonly keyColumn?: string | undefined;
  readonly timestampFormat?: TimestampFormat | undefined;
  /** A boolean SQL expression over the table's columns: which rows are archived. */
  readonly archiveWhere?: string | undefined;
  /** Whether rows are archived: without, only keys travel to caretaker (much less work per batch). */
  readonly archiving: boolean;
  /** The archive's format, when archiving: JSON Lines may be built by the database. */
  readonly archiveFormat?: ArchiveFormat | undefined;
  /** Rows with a timestamp before this instant are deleted. */
  readonly cutoffMs: number;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly signal: AbortSignal;
}

export interface TableInfo {
  /** The name archives and messages use: `events`, or `audit.events` outside the public schema. */
  readonly label: string;
  readonly keyColumn: string;
  /** Every column, in table order, as archived (SQLite's implicit rowid key first when used). */
  readonly columns: readonly string[];
}

/** One batch taken out of the table: rows ordered by key, and which of them are to be archived. */
export interface LockedBatch {
  /** Rows in the batch (all deleted by commitBatch). */
  readonly count: number;
  /** The rows to archive, in key order; empty when nothing is archived (then rows are not even fetched). */
  readonly archiveRows: readonly Row[];
  readonly lo: unknown;
  readonly hi: unknown;
}

/** A batch as a dry run sees it (nothing locked). */
export interface BatchPreview {
  readonly count: number;
  readonly archived: number;
  readonly lo: unknown;
  readonly hi: unknown;
}

/**
 * A batch read without any lock (PostgreSQL's own snapshot): the old rows with a key in
 * (from, hi], what the archive is written from before `deleteUnchanged` deletes exactly these row
 * versions in a short transaction.
 */
export interface ReadBatch extends LockedBatch {
  /** The key the batch was read after (undefined: from the first row). */
  readonly from: unknown;
  /** The distinct versions of the rows read (PostgreSQL: their xmin), as an array literal. */
  readonly versions: string;
  /** The archive's text when the database built it (JSON Lines); else archiveRows are encoded. */
  readonly archiveText?: string | undefined;
  /** Rows to archive. */
  readonly archiveCount: number;
}

/**
 * Archive-then-delete without holding row locks while the archive is written (PostgreSQL): read a
 * batch, write and fsync its archive, then delete exactly the versions read.
 */
export interface OptimisticRetention {
  /**
   * The first `limit` (all when null) old rows with a key after `from` (all when undefined) and
   * not after `upTo` (when given), in key order; null when there are none. Locks nothing.
   */
  readBatch(from: unknown, limit: number | null, upTo?: unknown): Promise<ReadBatch | null>;
  /**
   * One short transaction: deletes the batch's rows if every one is still the version read, and
   * commits; if any changed or went (the application updated or deleted it), deletes nothing and
   * returns null. A failure of COMMIT itself throws CommitUncertainError.
   */
  deleteUnchanged(batch: ReadBatch): Promise<number | null>;
  /**
   * For a range whose rows keep changing under the optimistic path: takeNextBatch of the old rows
   * with a key in (from, upTo], locked until commitBatch (the archive is written under the lock).
   */
  takeRange(from: unknown, upTo: unknown): Promise<LockedBatch | null>;
}

export interface RetentionBackend {
  readonly info: TableInfo;
  /** Present where the database can check a row's version (PostgreSQL): the pipelined archive path. */
  readonly optimistic?: OptimisticRetention | undefined;
  countOld(): Promise<number>;
  anyKeyExists(keys: readonly unknown[]): Promise<boolean>;
  /**
   * Opens a transaction and takes the next `limit` old rows with a key after `after` (all when
   * undefined) out of the table: PostgreSQL deletes them (uncommitted), SQLite reads them under
   * the write lock. Returns null, with no transaction left open, when there are none.
   */
  takeNextBatch(after: unknown, limit: number): Promise<LockedBatch | null>;
  /**
   * Makes the batch's deletion durable: COMMIT (SQLite deletes the range first). A failure before
   * COMMIT rolls back and throws the error; a failure of COMMIT itself throws CommitUncertainError.
   */
  commitBatch(batch: LockedBatch): Promise<number>;
  /** Rolls back the open transaction, if any. */
  rollback(): Promise<void>;
  previewNextBatch(after: unknown, limit: number): Promise<BatchPreview | null>;
  /** One line for an error from this database (no password). */
  describe(err: unknown): string;
  close(): Promise<void>;
}

/** COMMIT failed (e.g. the connection dropped): whether the DELETE happened is unknown. */
export class CommitUncertainError extends Error {
  override name = 'CommitUncertainError';
}
