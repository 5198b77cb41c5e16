/**
 * Looks up the tables and columns a config names in PostgreSQL's catalog, with parameters (never
 * by pasting names into SQL). The config loader cannot see the database, so an unknown name is
 * found here, at run time, and reported with the names that do exist.
 */
import { didYouMean } from '../../core/did-you-mean.js';
import { SchemaMismatchError } from './schema-mismatch-error.js';
import type { PgSession } from './pg-session.js';

export interface PgTable {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** `events` in the public schema, else `audit.events`. */
  readonly label: string;
}

export interface PgColumn {
  readonly name: string;
  /** format_type(): `bigint`, `timestamp with time zone`, … */
  readonly type: string;
}

/** `audit.events` → schema audit, table events, unless a schema is given separately. */
export function splitTableName(name: string, schema: string | undefined): { schema?: string; table: string } {
  if (schema !== undefined) return { schema, table: name };
  const dot = name.indexOf('.');
  return dot > 0 ? { schema: name.slice(0, dot), table: name.slice(dot + 1) } : { table: name };
}

const RELKINDS = `('r','p','m')`; // tables, partitioned tables, materialized views

export async function resolvePgTable(
  db: PgSession,
  name: string,
  schema: string | undefined,
  option: string,
): Promise<PgTable> {
  const want = splitTableName(name, schema);
  const r = await db.query<{ oid: number; schema: string; name: string }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ${RELKINDS} AND c.relname = $1
        AND (($2::text IS NULL AND n.nspname = ANY (current_schemas(false))) OR n.nspname = $2)
      ORDER BY array_position(current_schemas(false), n.nspname::text) NULLS LAST
      LIMIT 1`,
    [want.table, want.schema ?? null],
  );
  const row = r.rows[0];
  if (row) {
    return { ...row, label: row.schema === 'public' ? row.name : `${row.schema}.${row.name}` };
  }
  const others = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ${RELKINDS}
        AND (($1::text IS NULL AND n.nspname = ANY (current_schemas(false))) OR n.nspname = $1)`,
    [want.schema ?? null],
  );
  const where = want.schema === undefined ? 'on the search path' : `in schema ${JSON.stringify(want.schema)}`;
  throw new SchemaMismatchError(
    `${option}: table ${JSON.stringify(want.table)} does not exist ${where}${didYouMean(
      want.table,
      others.rows.map((o) => o.name),
    )}`,
  );
}

export async function pgColumns(db: PgSession, table: PgTable): Promise<PgColumn[]> {
  const r = await db.query<PgColumn>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type
       FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table.oid],
  );
  return r.rows;
}

export async function pgPrimaryKey(db: PgSession, table: PgTable): Promise<string[]> {
  const r = await db.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = $1 AND i.indisprimary`,
    [table.oid],
  );
  return r.rows.map((x) => x.name);
}

/** The named column, or a SchemaMismatchError naming the option, the table and the closest column. */
export function requireColumn<C extends { name: string }>(
  columns: readonly C[],
  name: string,
  option: string,
  tableLabel: string,
): C {
  const c = columns.find((x) => x.name === name);
  if (c) return c;
  throw new SchemaMismatchError(
    `${option}: column ${JSON.stringify(name)} does not exist in table ${tableLabel}${didYouMean(
      name,
      columns.map((x) => x.name),
    )}`,
  );
}
