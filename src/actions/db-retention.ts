/**
 * `db-retention`: deletes rows older than `older_than` in batches of primary-key ranges, each its
 * own short transaction, optionally archiving them first (gzipped JSON Lines or CSV, fsynced)
 * so that a crash at any instant loses nothing and duplicates nothing on the rerun. The on-disk
 * protocol is in datastore/retention-archive.ts; the SQL in retention-postgres.ts / -sqlite.ts.
 */
import { plural } from '../core/plural.js';
import { mkdir } from 'node:fs/promises';
import { relative } from 'node:path';
import type { z } from 'zod';
import { formatDuration } from '../core/duration.js';
import { PathGuard } from '../safety/path-guard.js';
import { resolveDbTarget, type DbTarget } from './datastore/db-target.js';
import { describePgError } from './datastore/pg-session.js';
import {
  fsyncDir,
  recoverArchives,
  type ArchiveSpec,
  type RecoveryReport,
} from './datastore/retention-archive.js';
import type { RetentionBackend, RetentionTarget } from './datastore/retention-backend.js';
import { pipelinedBatches, sequentialBatches, type BatchLoop } from './db-retention/batches.js';
import { openPgRetention } from './datastore/retention-postgres.js';
import { openSqliteRetention } from './datastore/retention-sqlite.js';
import { defineAction, type ActionContext, type ActionResult } from './types.js';
import { dbRetentionDeclaration } from './db-retention/declaration.js';
import type { schema } from './db-retention/schema.js';

const DEFAULT_BATCH = 5_000;
const PLAN_LINES = 50;

type Options = z.output<typeof schema>;

const fmt = (n: number) => n.toLocaleString('en-US');

function openBackend(target: DbTarget, t: RetentionTarget): Promise<RetentionBackend> {
  return target.kind === 'postgres' ? openPgRetention(target.url, t) : openSqliteRetention(target.path, t);
}

function recoveryLines(r: RecoveryReport, dryRun: boolean): string[] {
  const would = dryRun ? 'would ' : '';
  return [
    ...r.promoted.map(
      (n) => `${would}finish archive ${n}: its rows were deleted before the last run stopped`,
    ),
    ...r.discarded.map((n) => `${would}remove unfinished archive ${n}: its rows are still in the table`),
    ...r.tmpRemoved.map((n) => `${would}remove half-written ${n}`),
  ];
}

export const dbRetentionAction = defineAction({
  ...dbRetentionDeclaration,
  async run(ctx, o) {
    const target = resolveDbTarget(o, ctx.resolvePath);
    if ('error' in target) return { ok: false, summary: target.error, changed: false };
    const cutoffMs = ctx.clock.now() - o.older_than;
    const cutoffText = new Date(cutoffMs).toISOString();
    let archive: ArchiveSpec | undefined;
    if (o.archive_to !== undefined) {
      const dir = ctx.resolvePath(o.archive_to);
      try {
        new PathGuard({ stateDir: ctx.stateDir }).assertRoot(dir, 'archive_to');
        if (!ctx.dryRun) await mkdir(dir, { recursive: true });
      } catch (err) {
        return { ok: false, summary: (err as Error).message, changed: false };
      }
      archive = { dir, table: o.table, format: o.archive_format ?? 'jsonl' };
    }
    let backend: RetentionBackend;
    try {
      backend = await openBackend(target, {
        table: o.table,
        schema: o.schema,
        timestampColumn: o.timestamp_column,
        keyColumn: o.key_column,
        timestampFormat: o.timestamp_format,
        archiveWhere: o.archive_where,
        archiving: archive !== undefined,
        archiveFormat: archive?.format,
        cutoffMs,
        lockTimeoutMs: o.lock_timeout ?? 5_000,
        statementTimeoutMs: o.statement_timeout ?? 60_000,
        signal: ctx.signal,
      });
    } catch (err) {
      const why = target.kind === 'postgres' ? describePgError(err, target.url) : (err as Error).message;
      return { ok: false, summary: `${target.shown}: ${why}`, changed: false };
    }
    try {
      // Archive names use the table's resolved name (`events`, `audit.events`), as recovery does.
      if (archive) archive = { ...archive, table: backend.info.label };
      return await retain(ctx, o, backend, archive, cutoffText);
    } finally {
      await backend.close();
    }
  },
});

async function retain(
  ctx: ActionContext,
  o: Options,
  db: RetentionBackend,
  archive: ArchiveSpec | undefined,
  cutoffText: string,
): Promise<ActionResult> {
  const table = db.info.label;
  const batchSize = o.batch ?? DEFAULT_BATCH;
  const maxRows = o.max_rows ?? Infinity;
  let recovered: RecoveryReport = { promoted: [], discarded: [], tmpRemoved: [] };
  try {
    if (archive) {
      recovered = await recoverArchives(archive, db.info.keyColumn, (k) => db.anyKeyExists(k), ctx.dryRun);
      for (const line of recoveryLines(recovered, ctx.dryRun)) ctx.output(`${line}\n`);
    }
  } catch (err) {
    return { ok: false, summary: `${table}: ${db.describe(err)}`, changed: false };
  }
  const total = await db.countOld();
  const where = archive ? relative(ctx.baseDir, archive.dir) || '.' : '';
  if (ctx.dryRun) return preview(ctx, db, { total, batchSize, maxRows, recovered, cutoffText, where });

  const started = performance.now();
  ctx.progress({ done: 0, total, unit: 'rows', label: table });
  const loop: BatchLoop = {
    ctx,
    db,
    archive,
    batchSize,
    maxRows,
    pauseMs: o.pause,
    runStart: ctx.clock.now(),
    total,
  };
  const opt = archive ? db.optimistic : undefined;
  const t = opt ? await pipelinedBatches(loop, opt) : await sequentialBatches(loop);
  const { deleted, archived, done, files, stopped } = t;
  if (archive && files.length > 0) {
    // Makes the final names durable; losing them would be harmless (recovery renames again).
    await fsyncDir(archive.dir).catch((err: unknown) =>
      ctx.logger.warn({ err }, 'db-retention: could not fsync the archive directory'),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const archivedText = archive
    ? `; archived ${fmt(archived)} to ${plural(files.length, 'file')} in ${where}`
    : '';
  const did = `deleted ${rowsText(deleted)} older than ${cutoffText} from ${table} in ${plural(done, 'batch', 'batches')}${archivedText}`;
  const details = {
    table,
    cutoff: cutoffText,
    oldRowsAtStart: total,
    deleted,
    archived,
    batches: done,
    archiveFiles: files.length,
    archiveBytes: t.archiveBytes,
    archiveDir: archive?.dir,
    firstArchives: files.slice(0, 20),
    longestBatchMs: Math.round(t.longestBatchMs),
    retriedBatches: t.retried,
    rowsPerSecond: seconds > 0 ? Math.round(deleted / seconds) : deleted,
    recovered,
    capped: stopped === undefined && (t.capped === true || deleted >= maxRows),
  };
  if (stopped !== undefined) {
    return {
      ok: false,
      summary: `${table}: stopped — ${stopped}; ${did} before that (nothing lost: rerun to continue)`,
      changed: deleted > 0,
      filesModified: files.length,
      details,
    };
  }
  const none = deleted === 0 && recovered.promoted.length === 0;
  return {
    ok: true,
    summary: none
      ? `no rows older than ${cutoffText} in ${table}`
      : `${did} (longest batch ${formatDuration(t.longestBatchMs)})`,
    changed: deleted > 0 || recovered.promoted.length + recovered.discarded.length > 0,
    filesModified: files.length + recovered.promoted.length,
    details,
  };
}

/** `1 row`, `70,410 rows`. */
const rowsText = (n: number) => (n === 1 ? '1 row' : `${fmt(n)} rows`);

/**
 * A key as a result may carry it: results are stored as JSON, which has no BigInt — and SQLite
 * keys are read as BigInt so that 64-bit ids stay exact. A number while exact, else its digits.
 */
function reportedKey(k: unknown): unknown {
  if (typeof k !== 'bigint') return k;
  return k >= BigInt(Number.MIN_SAFE_INTEGER) && k <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(k)
    : k.toString();
}

async function preview(
  ctx: ActionContext,
  db: RetentionBackend,
  p: {
    total: number;
    batchSize: number;
    maxRows: number;
    recovered: RecoveryReport;
    cutoffText: string;
    where: string;
  },
): Promise<ActionResult> {
  const plan = recoveryLines(p.recovered, true);
  const perBatch: { rows: number; archive: number; lo: unknown; hi: unknown }[] = [];
  let after: unknown = undefined;
  let rows = 0;
  let archive = 0;
  while (rows < p.maxRows && !ctx.signal.aborted) {
    const b = await db.previewNextBatch(after, Math.min(p.batchSize, p.maxRows - rows));
    if (!b) break;
    perBatch.push({ rows: b.count, archive: b.archived, lo: reportedKey(b.lo), hi: reportedKey(b.hi) });
    rows += b.count;
    archive += b.archived;
    after = b.hi;
  }
  const table = db.info.label;
  for (const [i, b] of perBatch.slice(0, PLAN_LINES).entries()) {
    const arch = p.where ? `, archive ${fmt(b.archive)} to ${p.where}` : '';
    plan.push(
      `batch ${i + 1}: ${db.info.keyColumn} ${String(b.lo)}..${String(b.hi)}: delete ${rowsText(b.rows)}${arch}`,
    );
  }
  if (perBatch.length > PLAN_LINES) {
    const rest = perBatch.slice(PLAN_LINES).reduce((s, b) => s + b.rows, 0);
    plan.push(`… ${perBatch.length - PLAN_LINES} more batches, ${rowsText(rest)}`);
  }
  const arch = p.where ? ` (archive ${fmt(archive)} to ${p.where})` : '';
  return {
    ok: true,
    summary:
      rows === 0
        ? `no rows older than ${p.cutoffText} in ${table}`
        : `would delete ${fmt(rows)} of ${rowsText(p.total)} older than ${p.cutoffText} from ${table} in ${plural(perBatch.length, 'batch', 'batches')}${arch}`,
    changed: false,
    plan,
    details: {
      table,
      cutoff: p.cutoffText,
      oldRows: p.total,
      rows,
      archive,
      batches: perBatch.slice(0, 1000),
    },
  };
}
