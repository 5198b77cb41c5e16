/**
 * Table and column names from the config are identifiers: they are quoted, never pasted into SQL
 * as they are, so `events; DROP TABLE x` is only ever a (missing) table name.
 */
function assertPrintable(name: string): void {
  if (name.length === 0 || name.includes('\0')) throw new Error(`invalid identifier ${JSON.stringify(name)}`);
}

/** PostgreSQL: what the driver's escapeIdentifier does ("a""b"), without loading the driver. */
export function pgIdent(name: string): string {
  assertPrintable(name);
  return `"${name.replace(/"/g, '""')}"`;
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
