/**
 * Table and column names from the config are identifiers: they are quoted, never pasted into SQL
 * as they are, so `events; DROP TABLE x` is only ever a (missing) table name.
 */
import pg from 'pg';

function assertPrintable(name: string): void {
  if (name.length === 0 || name.includes('\0')) throw new Error(`invalid identifier ${JSON.stringify(name)}`);
}

/** PostgreSQL: the driver's own escaping ("a""b"). */
export function pgIdent(name: string): string {
  assertPrintable(name);
  return pg.escapeIdentifier(name);
}

/** `schema.table` as a quoted, qualified name. */
export function pgQualified(schema: string, table: string): string {
  return `${pgIdent(schema)}.${pgIdent(table)}`;
}

/** SQLite: double quotes, embedded quotes doubled. */
export function sqliteIdent(name: string): string {
  assertPrintable(name);
  return `"${name.replaceAll('"', '""')}"`;
}
