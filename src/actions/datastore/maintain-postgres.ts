/**
 * db-maintain on PostgreSQL. One statement per table and operation so each table gets its own
 * lock_timeout: a table the application holds busy is skipped with a warning, the rest proceed.
 * Figures come from pg_stat_user_tables and pg_total_relation_size before and after.
 *
 * Locks taken: VACUUM and ANALYZE take SHARE UPDATE EXCLUSIVE (reads and writes go on);
 * REINDEX CONCURRENTLY the same (PostgreSQL 12+); VACUUM FULL and plain REINDEX take ACCESS
 * EXCLUSIVE / SHARE locks that block the application, hence allow_exclusive_lock.
 */
import { formatDuration } from '../../core/duration.js';
import { formatSize } from '../../core/size.js';
import type { ActionContext, ActionResult } from '../types.js';
import { resolvePgTable, type PgTable } from './pg-catalog.js';
import { dropLeftovers } from './pg-reindex-leftovers.js';
import { isLockTimeout, PgSession, describePgError } from './pg-session.js';
import { SchemaMismatchError } from './schema-mismatch-error.js';
import { pgQualified } from './sql-identifier.js';

export interface PgMaintainOptions {
  readonly url: string;
  readonly shown: string;
  readonly tables: readonly string[] | undefined;
  readonly operations: readonly string[];
  readonly allowExclusiveLock: boolean;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
}

interface TableStats {
  readonly live: number;
  readonly dead: number;
  /** null: the size could not be read because the table is locked (see `busy`). */
  readonly bytes: number | null;
  readonly modSinceAnalyze: number;
  readonly lastVacuum: string | null;
  readonly lastAnalyze: string | null;
}

interface Step {
  readonly label: string;
  readonly sql: string;
  readonly locks: boolean;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Figures of each table. The counters come from the statistics views, which take no lock; the
 * size (pg_total_relation_size) needs the table's ACCESS SHARE lock, so it is read table by table
 * and a table another session holds exclusively (a migration, LOCK TABLE, VACUUM FULL) is marked
 * busy after lock_timeout instead of failing the whole run.
 */
async function statsOf(
  db: PgSession,
  tables: readonly PgTable[],
  busy: Set<number>,
): Promise<Map<number, TableStats>> {
  await db.query('SELECT pg_stat_clear_snapshot()'); // read fresh figures, not this session's cache
  const r = await db.query<{
    oid: number;
    live: string;
    dead: string;
    mod: string;
    last_vacuum: string | null;
    last_analyze: string | null;
  }>(
    `SELECT relid::int AS oid, n_live_tup::text AS live, n_dead_tup::text AS dead,
            n_mod_since_analyze::text AS mod,
            greatest(last_vacuum, last_autovacuum)::text AS last_vacuum,
            greatest(last_analyze, last_autoanalyze)::text AS last_analyze
       FROM pg_stat_user_tables WHERE relid = ANY ($1::oid[])`,
    [tables.map((t) => t.oid)],
  );
  const out = new Map<number, TableStats>();
  for (const x of r.rows) {
    let bytes: number | null = null;
    if (!busy.has(x.oid)) {
      try {
        const s = await db.query<{ bytes: string }>(`SELECT pg_total_relation_size($1::oid)::text AS bytes`, [
          x.oid,
        ]);
        bytes = Number(s.rows[0]!.bytes);
      } catch (err) {
        if (!isLockTimeout(err)) throw err;
        busy.add(x.oid);
      }
    }
    out.set(x.oid, {
      live: Number(x.live),
      dead: Number(x.dead),
      bytes,
      modSinceAnalyze: Number(x.mod),
      lastVacuum: x.last_vacuum,
      lastAnalyze: x.last_analyze,
    });
  }
  return out;
}

async function tablesToMaintain(db: PgSession, names: readonly string[] | undefined): Promise<PgTable[]> {
  if (names !== undefined) {
    const found: PgTable[] = [];
    for (const name of names) found.push(await resolvePgTable(db, name, undefined, 'tables'));
    return found;
  }
  const r = await db.query<{ oid: number; schema: string; name: string }>(
    `SELECT relid::int AS oid, schemaname AS schema, relname AS name FROM pg_stat_user_tables ORDER BY 2, 3`,
  );
  return r.rows.map((t) => ({ ...t, label: t.schema === 'public' ? t.name : `${t.schema}.${t.name}` }));
}

function stepsFor(
  table: PgTable,
  ops: readonly string[],
  concurrentReindex: boolean,
  allowLock: boolean,
): Step[] {
  const q = pgQualified(table.schema, table.name);
  const steps: Step[] = [];
  const analyze = ops.includes('analyze');
  if (ops.includes('vacuum_full')) {
    steps.push({ label: 'vacuum_full', sql: `VACUUM (FULL${analyze ? ', ANALYZE' : ''}) ${q}`, locks: true });
  } else if (ops.includes('vacuum')) {
    const sql = analyze ? `VACUUM (ANALYZE) ${q}` : `VACUUM ${q}`;
    steps.push({ label: analyze ? 'vacuum+analyze' : 'vacuum', sql, locks: false });
  } else if (analyze) steps.push({ label: 'analyze', sql: `ANALYZE ${q}`, locks: false });
  if (ops.includes('reindex')) {
    if (concurrentReindex)
      steps.push({ label: 'reindex', sql: `REINDEX TABLE CONCURRENTLY ${q}`, locks: false });
    else if (allowLock) steps.push({ label: 'reindex', sql: `REINDEX TABLE ${q}`, locks: true });
  }
  return steps;
}

export async function maintainPostgres(ctx: ActionContext, o: PgMaintainOptions): Promise<ActionResult> {
  let db: PgSession;
  try {
    db = await PgSession.open({
      url: o.url,
      signal: ctx.signal,
      lockTimeoutMs: o.lockTimeoutMs,
      statementTimeoutMs: o.statementTimeoutMs,
    });
  } catch (err) {
    return { ok: false, summary: `${o.shown}: ${describePgError(err, o.url)}`, changed: false };
  }
  try {
    return await maintain(ctx, db, o);
  } catch (err) {
    const why = err instanceof SchemaMismatchError ? err.message : db.describe(err);
    return { ok: false, summary: `${o.shown}: ${why}`, changed: false };
  } finally {
    await db.close();
  }
}

async function maintain(ctx: ActionContext, db: PgSession, o: PgMaintainOptions): Promise<ActionResult> {
  const version = Number(
    (await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v,
  );
  const concurrentReindex = version >= 120_000;
  const warnings: string[] = [];
  if (o.operations.includes('reindex') && !concurrentReindex && !o.allowExclusiveLock) {
    warnings.push(
      `reindex skipped: PostgreSQL ${Math.floor(version / 10_000)} has no REINDEX CONCURRENTLY and a plain REINDEX blocks writes; set allow_exclusive_lock: true to run it`,
    );
  }
  const tables = await tablesToMaintain(db, o.tables);
  /** Tables whose lock was not free within lock_timeout when their size was read. */
  const busy = new Set<number>();
  const before = await statsOf(db, tables, busy);
  const plan = tables.flatMap((t) =>
    stepsFor(t, o.operations, concurrentReindex, o.allowExclusiveLock).map((s) => {
      const st = before.get(t.oid);
      const size = st?.bytes === null ? 'size unknown: the table is locked' : formatSize(st?.bytes ?? 0);
      const now = st ? ` (now ${fmt(st.dead)} dead rows, ${size})` : '';
      return `${s.sql}${now}${s.locks ? ' — takes a lock that blocks the table while it runs' : ''}`;
    }),
  );
  if (ctx.dryRun) {
    return {
      ok: true,
      summary: `would run ${o.operations.join(', ')} on ${tables.length} table${tables.length === 1 ? '' : 's'}`,
      changed: false,
      plan,
      warnings: warnings.length > 0 ? warnings : undefined,
    };
  }
  const started = performance.now();
  const done: { table: string; steps: { op: string; ms: number; status: string }[] }[] = [];
  const droppedIndexes: string[] = [];
  let failed = 0;
  const lockBusy = (step: Step, table: PgTable) =>
    `${step.label} of ${table.label} skipped: its lock was not free within ${formatDuration(o.lockTimeoutMs)}`;
  for (const [i, table] of tables.entries()) {
    if (ctx.signal.aborted) break;
    const record = { table: table.label, steps: [] as { op: string; ms: number; status: string }[] };
    done.push(record);
    for (const step of stepsFor(table, o.operations, concurrentReindex, o.allowExclusiveLock)) {
      // Held by another session already when its size was read: waiting again would only time out.
      if (busy.has(table.oid)) {
        record.steps.push({ op: step.label, ms: 0, status: 'lock_timeout' });
        warnings.push(lockBusy(step, table));
        continue;
      }
      if (step.label === 'reindex' && concurrentReindex) {
        // Leftovers of an earlier interrupted REINDEX first; while they cannot be dropped, a new
        // attempt would only leave one more.
        const clean = await dropLeftovers(db, table, (e) => db.describe(e));
        droppedIndexes.push(...clean.dropped);
        warnings.push(...clean.warnings);
        if (clean.remaining.length > 0) {
          record.steps.push({ op: step.label, ms: 0, status: 'lock_timeout' });
          warnings.push(lockBusy(step, table));
          continue;
        }
      }
      if (step.locks) {
        const note = `${step.label} of ${table.label} locks the table until it ends`;
        ctx.logger.warn({ table: table.label }, note);
        ctx.output(`warning: ${note}\n`);
      }
      const t0 = performance.now();
      try {
        await db.query(step.sql);
        record.steps.push({ op: step.label, ms: Math.round(performance.now() - t0), status: 'done' });
        ctx.output(`${step.sql}: ${formatDuration(performance.now() - t0)}\n`);
      } catch (err) {
        const status = isLockTimeout(err) ? 'lock_timeout' : 'failed';
        record.steps.push({ op: step.label, ms: Math.round(performance.now() - t0), status });
        if (status === 'lock_timeout') {
          warnings.push(lockBusy(step, table));
        } else {
          failed++;
          warnings.push(`${step.label} of ${table.label} failed: ${db.describe(err)}`);
        }
        if (step.label === 'reindex' && concurrentReindex) {
          // A failed REINDEX CONCURRENTLY leaves invalid _ccnew/_ccold indexes behind: drop them now.
          const clean = await dropLeftovers(db, table, (e) => db.describe(e));
          droppedIndexes.push(...clean.dropped);
          warnings.push(...clean.warnings.filter((w) => !warnings.includes(w)));
        }
      }
    }
    ctx.progress({ done: i + 1, total: tables.length, unit: 'items', label: table.label });
  }
  const after = await statsOf(db, tables, busy);
  const perTable = tables.map((t) => {
    const b = before.get(t.oid);
    const a = after.get(t.oid);
    return {
      table: t.label,
      before: b,
      after: a,
      deadRemoved: b && a ? Math.max(0, b.dead - a.dead) : 0,
      bytesReclaimed: b?.bytes != null && a?.bytes != null ? Math.max(0, b.bytes - a.bytes) : 0,
      busy: busy.has(t.oid) || undefined,
      steps: done.find((d) => d.table === t.label)?.steps ?? [],
    };
  });
  const dead = perTable.reduce((s, t) => s + t.deadRemoved, 0);
  const bytes = perTable.reduce((s, t) => s + t.bytesReclaimed, 0);
  const took = formatDuration(performance.now() - started);
  const summary = `${o.operations.join(', ')} on ${tables.length} table${tables.length === 1 ? '' : 's'} in ${took}: ${fmt(dead)} dead rows removed, ${formatSize(bytes)} reclaimed`;
  return {
    ok: failed === 0,
    summary: failed === 0 ? summary : `${failed} operation${failed === 1 ? '' : 's'} failed; ${summary}`,
    changed: tables.length > 0,
    bytesFreed: bytes,
    warnings: warnings.length > 0 ? warnings : undefined,
    details: {
      serverVersion: version,
      tables: perTable,
      droppedInvalidIndexes: droppedIndexes.length > 0 ? droppedIndexes : undefined,
    },
  };
}
