/**
 * db-maintain on SQLite. Operations run in a fixed, safe order whatever the list's order:
 * integrity_check first (a damaged file stops everything: VACUUM would copy the damage), then
 * vacuum, analyze, optimize, and wal_checkpoint last (VACUUM writes the whole file to the WAL).
 *
 * VACUUM writes a complete copy of the database before it replaces the original, so it is
 * refused when the filesystem holding the file has less free space than the file's size.
 */
import { formatDuration } from '../../core/duration.js';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatSize } from '../../core/size.js';
import { openSqlite, type SqliteDatabase } from '../../store/sqlite/driver.js';
import type { ActionContext, ActionResult } from '../types.js';
import { SQLITE_OPERATIONS } from './maintain-operations.js';

/** Free bytes on the filesystem holding `dir`. */
export type FreeSpace = (dir: string) => Promise<number>;

export interface SqliteMaintainOptions {
  readonly path: string;
  readonly operations: readonly string[];
  readonly lockTimeoutMs: number;
  readonly freeSpace: FreeSpace;
}

interface FileFigures {
  readonly bytes: number;
  readonly freePages: number;
  readonly pageSize: number;
  readonly walBytes: number;
}

function figures(db: SqliteDatabase, path: string): FileFigures {
  const pageSize = db.pragmaValue('page_size') as number;
  const pages = db.pragmaValue('page_count') as number;
  const freePages = db.pragmaValue('freelist_count') as number;
  const wal = `${path}-wal`;
  return { bytes: pages * pageSize, freePages, pageSize, walBytes: existsSync(wal) ? statSync(wal).size : 0 };
}

export async function maintainSqlite(ctx: ActionContext, o: SqliteMaintainOptions): Promise<ActionResult> {
  if (!existsSync(o.path))
    return { ok: false, summary: `SQLite database ${o.path} does not exist`, changed: false };
  let db: SqliteDatabase;
  try {
    db = openSqlite(o.path, { fileMustExist: true, readonly: ctx.dryRun, timeoutMs: o.lockTimeoutMs });
  } catch (err) {
    return { ok: false, summary: `${o.path}: ${(err as Error).message}`, changed: false };
  }
  try {
    return await maintain(ctx, db, o);
  } catch (err) {
    return { ok: false, summary: `${o.path}: ${(err as Error).message}`, changed: false };
  } finally {
    db.close();
  }
}

async function maintain(
  ctx: ActionContext,
  db: SqliteDatabase,
  o: SqliteMaintainOptions,
): Promise<ActionResult> {
  const ops = SQLITE_OPERATIONS.filter((op) => o.operations.includes(op));
  const before = figures(db, o.path);
  const warnings: string[] = [];
  const results: Record<string, unknown> = {};
  const free = ops.includes('vacuum') ? await o.freeSpace(dirname(o.path)) : undefined;
  const vacuumRefusal =
    free !== undefined && free < before.bytes
      ? `vacuum refused: it needs room for a full copy of the ${formatSize(before.bytes)} database, and only ${formatSize(free)} is free on its filesystem`
      : undefined;

  if (ctx.dryRun) {
    const plan = ops.map((op) => {
      if (op === 'vacuum') {
        return (
          vacuumRefusal ?? `VACUUM (${formatSize(before.bytes)}, ${before.freePages} free pages to reclaim)`
        );
      }
      return op === 'integrity_check'
        ? 'PRAGMA integrity_check'
        : op === 'analyze'
          ? 'ANALYZE'
          : `PRAGMA ${op}`;
    });
    return { ok: true, summary: `would run ${ops.join(', ')} on ${o.path}`, changed: false, plan };
  }

  let issues: string[] = [];
  for (const op of ops) {
    if (ctx.signal.aborted) break;
    const t0 = performance.now();
    switch (op) {
      case 'integrity_check': {
        const rows = db.pragma('integrity_check') as unknown as { integrity_check: string }[];
        issues = rows.flatMap((r) => r.integrity_check.split('\n')).filter((t) => t !== 'ok' && t !== '');
        results.integrity_check = issues.length === 0 ? 'ok' : issues.slice(0, 50);
        break;
      }
      case 'vacuum':
        if (vacuumRefusal) {
          warnings.push(vacuumRefusal);
          results.vacuum = 'refused';
        } else {
          db.exec('VACUUM');
          results.vacuum = 'done';
        }
        break;
      case 'analyze':
        db.exec('ANALYZE');
        results.analyze = 'done';
        break;
      case 'optimize':
        db.pragma('optimize');
        results.optimize = 'done';
        break;
      case 'wal_checkpoint': {
        const mode = db.pragmaValue('journal_mode') as string;
        if (mode !== 'wal') {
          results.wal_checkpoint = `not in WAL mode (journal_mode=${mode}): nothing to checkpoint`;
          break;
        }
        const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as unknown as {
          busy: number;
          log: number;
          checkpointed: number;
        }[];
        results.wal_checkpoint = r;
        if (r && r.busy !== 0) {
          warnings.push(
            `wal_checkpoint could not finish: other connections are reading (${r.checkpointed} of ${r.log} pages copied)`,
          );
        }
        break;
      }
    }
    ctx.output(`${op}: ${formatDuration(performance.now() - t0)}\n`);
    if (issues.length > 0) break; // nothing else runs on a damaged file
  }
  const after = figures(db, o.path);
  const reclaimed = Math.max(0, before.bytes - after.bytes) + Math.max(0, before.walBytes - after.walBytes);
  const details = { path: o.path, before, after, results, freeBytes: free };
  if (issues.length > 0) {
    return {
      ok: false,
      summary: `integrity_check found ${issues.length} problem${issues.length === 1 ? '' : 's'} in ${o.path}: ${issues[0]}; nothing else was run`,
      changed: false,
      issuesFound: issues.length,
      details,
    };
  }
  return {
    ok: true,
    summary: `${ops.join(', ')} on ${o.path}: ${formatSize(before.bytes)} → ${formatSize(after.bytes)}, ${formatSize(reclaimed)} reclaimed`,
    changed: ops.some((op) => op !== 'integrity_check'),
    bytesFreed: reclaimed,
    issuesFound: 0,
    warnings: warnings.length > 0 ? warnings : undefined,
    details,
  };
}
