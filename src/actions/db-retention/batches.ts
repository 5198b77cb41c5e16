/**
 * db-retention's batch loops. Both keep the archive protocol of datastore/retention-archive.ts:
 * a batch's archive is durable (.pending, file and directory fsynced) before its DELETE commits.
 *
 * - `sequentialBatches`: one batch at a time, its rows locked from the moment they are taken
 *   until COMMIT, the archive written in between (SQLite, whose write lock is the whole
 *   database anyway; and every database without an archive, where there is nothing to write).
 * - `pipelinedBatches`: archive-then-delete on a database that can tell whether a row changed
 *   since it was read (PostgreSQL's xmin). Three batches are in flight, each in its own stage:
 *   batch N+2 is read (a second connection), N+1 is encoded, gzipped (zlib's thread pool) and
 *   fsynced, N is deleted in a short transaction that commits only if every row is still the
 *   version archived. Rows are locked only for that DELETE and its COMMIT, never while a file is
 *   written; the database, the event loop and the disk work at once, on both cores.
 */
import { performance } from 'node:perf_hooks';
import type { ActionContext } from '../types.js';
import { sleepOn } from '../clock-sleep.js';
import { faultPause } from '../../os/fault-point.js';
import { encodeRows } from '../datastore/archive-format.js';
import {
  discard,
  promote,
  writePending,
  type ArchiveSpec,
  type PendingArchive,
} from '../datastore/retention-archive.js';
import {
  CommitUncertainError,
  type LockedBatch,
  type OptimisticRetention,
  type ReadBatch,
  type RetentionBackend,
} from '../datastore/retention-backend.js';

/** What a run's batches did. */
export interface Tally {
  deleted: number;
  archived: number;
  /** Batches committed. */
  done: number;
  archiveBytes: number;
  /** The longest batch transaction: an upper bound on any row lock held. */
  longestBatchMs: number;
  files: string[];
  /** Batches read again because the application changed one of their rows meanwhile. */
  retried: number;
  /** Stopped reading at max_rows (the pipelined loop; the sequential one compares counts). */
  capped?: boolean;
  stopped: string | undefined;
}

export interface BatchLoop {
  readonly ctx: ActionContext;
  readonly db: RetentionBackend;
  readonly archive: ArchiveSpec | undefined;
  readonly batchSize: number;
  readonly maxRows: number;
  readonly pauseMs: number | undefined;
  /** Names every archive of this run. */
  readonly runStart: number;
  readonly total: number;
}

/** Optimistic tries of one batch before it is taken under lock (so a hot range still ends). */
const OPTIMISTIC_TRIES = 3;

const newTally = (): Tally => ({
  deleted: 0,
  archived: 0,
  done: 0,
  archiveBytes: 0,
  longestBatchMs: 0,
  files: [],
  retried: 0,
  stopped: undefined,
});

function stopReason(loop: BatchLoop, t: Tally, err: unknown): string {
  return loop.ctx.signal.aborted
    ? `the run was stopped during batch ${t.done + 1}`
    : `batch ${t.done + 1} failed: ${loop.db.describe(err)}`;
}

async function afterBatch(loop: BatchLoop, t: Tally): Promise<void> {
  loop.ctx.progress({ done: t.deleted, total: loop.total, unit: 'rows', label: loop.db.info.label });
  if (loop.pauseMs) await sleepOn(loop.ctx.clock, loop.pauseMs, loop.ctx.signal);
}

function archiveText(loop: BatchLoop, rows: LockedBatch['archiveRows'], spec: ArchiveSpec): string {
  return encodeRows(rows, loop.db.info.columns, spec.format);
}

/**
 * A locked batch: archive it (if asked), commit its DELETE, finish the archive. Throws after
 * undoing what it can; the rows stay in the table unless COMMIT itself failed (then recovery
 * decides at the next run).
 */
async function commitLocked(
  loop: BatchLoop,
  t: Tally,
  batch: LockedBatch,
  t0: number,
  archived: boolean,
): Promise<void> {
  const { db, archive } = loop;
  let pending: PendingArchive | undefined;
  try {
    if (archive && batch.archiveRows.length > 0) {
      pending = await writePending(archive, archiveText(loop, batch.archiveRows, archive), {
        lo: batch.lo,
        hi: batch.hi,
        startedAt: loop.runStart,
      });
    }
    if (!archived) await faultPause('retention:after-archive', loop.ctx.signal);
  } catch (err) {
    await db.rollback();
    if (pending) await discard(pending.pendingPath, archive!.dir);
    throw err;
  }
  try {
    t.deleted += await db.commitBatch(batch);
  } catch (err) {
    // Rolled back: the archive must go too. COMMIT failed: unknown, the next run's recovery decides.
    if (pending && !(err instanceof CommitUncertainError)) await discard(pending.pendingPath, archive!.dir);
    throw err;
  }
  t.done++;
  t.longestBatchMs = Math.max(t.longestBatchMs, performance.now() - t0);
  await faultPause('retention:after-delete', loop.ctx.signal);
  if (pending) await finish(t, pending, batch.archiveRows.length);
}

async function finish(t: Tally, pending: PendingArchive, rows: number): Promise<void> {
  await promote(pending);
  t.files.push(pending.name);
  t.archiveBytes += pending.bytes;
  t.archived += rows;
}

export async function sequentialBatches(loop: BatchLoop): Promise<Tally> {
  const t = newTally();
  let after: unknown = undefined;
  while (t.deleted < loop.maxRows) {
    if (loop.ctx.signal.aborted) {
      t.stopped = 'the run was stopped';
      break;
    }
    const t0 = performance.now();
    try {
      const batch = await loop.db.takeNextBatch(after, Math.min(loop.batchSize, loop.maxRows - t.deleted));
      if (!batch) break;
      await commitLocked(loop, t, batch, t0, false);
      after = batch.hi;
    } catch (err) {
      t.stopped = stopReason(loop, t, err);
      break;
    }
    await afterBatch(loop, t);
  }
  return t;
}

/** A batch read and archived (durably, as .pending), not yet deleted. */
interface Prepared {
  readonly batch: ReadBatch;
  readonly pending: PendingArchive | undefined;
  /** Earlier optimistic tries of this key range. */
  readonly tries: number;
}

export async function pipelinedBatches(loop: BatchLoop, opt: OptimisticRetention): Promise<Tally> {
  const archive = loop.archive!;
  const t = newTally();
  let planned = 0; // rows read so far: max_rows caps the reads
  const read = async (after: unknown): Promise<ReadBatch | null> => {
    const limit = Math.min(loop.batchSize, loop.maxRows - planned);
    if (limit <= 0) t.capped = true;
    if (limit <= 0 || loop.ctx.signal.aborted) return null;
    const b = await opt.readBatch(after, limit);
    if (b) planned += b.count;
    return b;
  };
  // A rejection is handled where the promise is awaited (the loop or the drain below); this only
  // keeps one that lands while nobody awaits it yet from counting as unhandled.
  const quiet = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => {});
    return p;
  };
  // With a pause between batches, nothing is read ahead: a batch read before the pause would be
  // deleted after it, the longer window making a change by the application (a retry) likelier.
  const ahead = !loop.pauseMs;
  /** Key ranges whose rows changed between read and DELETE: read and archived again, in turn. */
  const redo: Redo[] = [];
  let cursor: unknown = undefined; // the main read's position: the last key of the last batch read
  let mainDone = false;
  let reading: Promise<ReadBatch | null> | undefined = ahead ? quiet(read(undefined)) : undefined;
  /** The next batch to delete, archived: a range to redo first, else the next in key order. */
  const nextPrepared = async (): Promise<Prepared | null> => {
    for (let r = redo.shift(); r; r = redo.shift()) {
      const b = await opt.readBatch(r.from, null, r.hi);
      if (b) return prepareBatch(loop, b, r.tries);
    }
    if (mainDone) return null;
    const b = await (reading ?? read(cursor));
    reading = undefined;
    if (!b) {
      mainDone = true;
      return null;
    }
    cursor = b.hi;
    if (ahead) reading = quiet(read(b.hi));
    return prepareBatch(loop, b, 0);
  };
  let preparing = quiet(nextPrepared());
  try {
    for (;;) {
      if (loop.ctx.signal.aborted) {
        t.stopped = 'the run was stopped';
        break;
      }
      try {
        const cur = await preparing;
        if (!cur) {
          // The ranges to redo were queued after this (empty) answer was prepared.
          if (redo.length === 0) break;
          preparing = quiet(nextPrepared());
          continue;
        }
        // Batch N+1 is archived while batch N is deleted. (What `preparing` holds is never this
        // batch again: the drain below discards it.)
        preparing = ahead ? quiet(nextPrepared()) : Promise.resolve(null);
        await faultPause('retention:after-archive', loop.ctx.signal);
        await deleteArchived(loop, t, opt, cur, redo);
      } catch (err) {
        t.stopped = stopReason(loop, t, err);
        break;
      }
      await afterBatch(loop, t);
      if (!ahead) preparing = quiet(nextPrepared());
    }
  } finally {
    // A batch archived ahead but not deleted: its rows are still in the table, so its file goes.
    const left = await preparing.catch(() => null);
    if (left?.pending) await discard(left.pending.pendingPath, archive.dir);
    await reading?.catch(() => null);
  }
  return t;
}

/** A key range to read, archive and delete again, and how many times it was tried. */
interface Redo {
  readonly from: unknown;
  readonly hi: unknown;
  readonly tries: number;
}

/**
 * Deletes an archived batch. When the application changed one of its rows since the read,
 * nothing is deleted: the archive goes, and the batch's key range is queued to be read and
 * archived again (between the next batches, so the pipeline keeps going) — a few times, then it
 * is taken under lock at once, so a range the application keeps changing still ends.
 */
async function deleteArchived(
  loop: BatchLoop,
  t: Tally,
  opt: OptimisticRetention,
  cur: Prepared,
  redo: Redo[],
): Promise<void> {
  const archive = loop.archive!;
  const t0 = performance.now();
  let n: number | null;
  try {
    n = await opt.deleteUnchanged(cur.batch);
  } catch (err) {
    if (cur.pending && !(err instanceof CommitUncertainError))
      await discard(cur.pending.pendingPath, archive.dir);
    throw err;
  }
  // An undone attempt held its rows' locks too: it counts as a transaction.
  t.longestBatchMs = Math.max(t.longestBatchMs, performance.now() - t0);
  if (n !== null) {
    t.deleted += n;
    t.done++;
    await faultPause('retention:after-delete', loop.ctx.signal);
    if (cur.pending) await finish(t, cur.pending, cur.batch.archiveCount);
    return;
  }
  // A row changed since it was read: nothing was deleted, and this archive is not what is there.
  t.retried++;
  if (cur.pending) await discard(cur.pending.pendingPath, archive.dir);
  const { from, hi } = cur.batch;
  if (cur.tries + 1 < OPTIMISTIC_TRIES) {
    redo.push({ from, hi, tries: cur.tries + 1 });
    return;
  }
  const l0 = performance.now();
  const locked = await opt.takeRange(from, hi);
  if (locked) await commitLocked(loop, t, locked, l0, true);
}

/** Writes a read batch's archive, durably, under its .pending name. */
async function prepareBatch(loop: BatchLoop, batch: ReadBatch, tries: number): Promise<Prepared> {
  const archive = loop.archive!;
  if (batch.archiveCount === 0) return { batch, pending: undefined, tries };
  const text = batch.archiveText ?? archiveText(loop, batch.archiveRows, archive);
  const pending = await writePending(archive, text, {
    lo: batch.lo,
    hi: batch.hi,
    startedAt: loop.runStart,
  });
  return { batch, pending, tries };
}
