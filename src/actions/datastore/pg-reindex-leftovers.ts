/**
 * What an interrupted `REINDEX TABLE CONCURRENTLY` leaves behind: an invalid `<index>_ccnew`
 * (the copy being built) or `<index>_ccold` (the original, already swapped out), on the table or
 * on its TOAST table. REINDEX skips invalid indexes, so each failed run would leave one more, each
 * still maintained on every write. They are caretaker's own leftovers and safe to drop; an
 * invalid index of any other name (an application's failed CREATE INDEX CONCURRENTLY) is not ours
 * and is only reported.
 */
import type { PgTable } from './pg-catalog.js';
import { isLockTimeout, type PgSession } from './pg-session.js';
import { pgQualified } from './sql-identifier.js';

export interface InvalidIndex {
  readonly schema: string;
  readonly name: string;
  /** Left by REINDEX CONCURRENTLY (`_ccnew`, `_ccold`, with a number when there were several). */
  readonly leftover: boolean;
  /** On the table's TOAST table rather than the table itself. */
  readonly toast: boolean;
}

export async function invalidIndexes(db: PgSession, table: PgTable): Promise<InvalidIndex[]> {
  const r = await db.query<{ schema: string; name: string; toast: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS name, i.indrelid <> $1::oid AS toast
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid
        AND i.indrelid IN ($1::oid, (SELECT reltoastrelid FROM pg_class WHERE oid = $1::oid))
      ORDER BY 2`,
    [table.oid],
  );
  return r.rows.map((x) => ({ ...x, leftover: /_cc(new|old)\d*$/.test(x.name) }));
}

export interface CleanupResult {
  readonly dropped: string[];
  /** Leftovers that could not be dropped now (their table is busy): REINDEX would add another. */
  readonly remaining: string[];
  readonly warnings: string[];
}

/** Drops this table's REINDEX leftovers; reports other invalid indexes. */
export async function dropLeftovers(
  db: PgSession,
  table: PgTable,
  describe: (err: unknown) => string,
): Promise<CleanupResult> {
  const out: CleanupResult = { dropped: [], remaining: [], warnings: [] };
  for (const ix of await invalidIndexes(db, table)) {
    const shown = `${ix.schema === 'public' ? '' : `${ix.schema}.`}${ix.name}`;
    const of = `${ix.toast ? 'the TOAST table of ' : ''}${table.label}`;
    if (!ix.leftover) {
      out.warnings.push(
        `index ${shown} of ${of} is invalid (not made by caretaker, left as it is): rebuild it with REINDEX INDEX CONCURRENTLY or drop it`,
      );
      continue;
    }
    try {
      // Not in a transaction block (DROP INDEX CONCURRENTLY refuses one); the session autocommits.
      await db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${pgQualified(ix.schema, ix.name)}`);
      out.dropped.push(shown);
    } catch (err) {
      out.remaining.push(shown);
      out.warnings.push(
        `index ${shown} of ${of}, left invalid by an interrupted REINDEX CONCURRENTLY, could not be dropped${isLockTimeout(err) ? ' (its table is busy)' : `: ${describe(err)}`}; the next run tries again`,
      );
    }
  }
  return out;
}
