/**
 * `db-maintain`: VACUUM / ANALYZE / REINDEX on PostgreSQL, integrity_check / optimize / analyze /
 * VACUUM / wal_checkpoint on SQLite, with before/after figures so the operator sees what it did.
 * The SQL lives in datastore/maintain-postgres.ts and datastore/maintain-sqlite.ts.
 */
import { statfs as fsStatfs } from 'node:fs/promises';
import { resolveDbTarget } from './datastore/db-target.js';
import { maintainPostgres } from './datastore/maintain-postgres.js';
import { maintainSqlite, type FreeSpace } from './datastore/maintain-sqlite.js';
import { defineAction } from './types.js';
import { dbMaintainDeclaration } from './db-maintain/declaration.js';

export interface DbMaintainDeps {
  /** Free bytes for the filesystem holding `dir` (injected by tests: a nearly full disk cannot be made here). */
  readonly freeSpace: FreeSpace;
}

const realFreeSpace: FreeSpace = async (dir) => {
  const s = await fsStatfs(dir);
  return s.bavail * s.bsize;
};

export function createDbMaintainAction(deps: DbMaintainDeps = { freeSpace: realFreeSpace }) {
  return defineAction({
    ...dbMaintainDeclaration,
    async run(ctx, o) {
      const target = resolveDbTarget(o, ctx.resolvePath);
      if ('error' in target) return { ok: false, summary: target.error, changed: false };
      const lockTimeoutMs = o.lock_timeout ?? 5_000;
      if (target.kind === 'sqlite') {
        return maintainSqlite(ctx, {
          path: target.path,
          operations: o.operations ?? ['integrity_check', 'optimize'],
          lockTimeoutMs,
          freeSpace: deps.freeSpace,
        });
      }
      return maintainPostgres(ctx, {
        url: target.url,
        shown: target.shown,
        tables: o.tables,
        operations: o.operations ?? ['vacuum', 'analyze'],
        allowExclusiveLock: o.allow_exclusive_lock === true,
        lockTimeoutMs,
        statementTimeoutMs: o.statement_timeout ?? 30 * 60_000,
      });
    },
  });
}

export const dbMaintainAction = createDbMaintainAction();
