/**
 * A batch's JSON Lines built by PostgreSQL itself, byte for byte what archive-format.ts writes from
 * the rows the driver parses (`encodeRows(rows, columns, 'jsonl')`), for the column types where
 * that equality is certain. Building the line in the server costs about what sending the row's
 * fields does, and saves caretaker parsing every field into an object and serialising it again
 * (1.2 s per 500,000 rows on the benchmark's table, most of caretaker's own CPU in an archived run).
 *
 * Why each type is safe, given how pg-session.ts (`archiveTypes`) parses and archive-format.ts
 * writes it:
 *   - smallint, integer: parsed with parseInt and written as a JSON number: the same digits.
 *   - bigint: a number while it is a safe integer (|v| <= 2^53 - 1), else its digits as a string.
 *   - boolean: true / false.
 *   - text, varchar, uuid, numeric, date, timestamp(tz), bytea: the driver keeps the server's text
 *     (archiveTypes keeps dates, timestamps and bytea as sent; numeric, uuid and text have no
 *     parser), then JSON.stringify quotes it. PostgreSQL's to_json(text) escapes the same set the
 *     same way: `"` `\` as `\"` `\\`, \b \f \n \r \t, other characters below U+0020 as \u00xx
 *     (lowercase hex), everything else as is (test/actions/db-retention-lines.test.ts checks
 *     every code point below 128, astral and separator characters, and the edge values).
 * Anything else (json, jsonb, floats, arrays, intervals, bpchar — whose ::text drops the padding
 * the driver keeps —, domains, enums, …) returns undefined and the caller encodes in JavaScript.
 * So do column names JavaScript would reorder (array indexes such as "1" come first in an object)
 * or not keep (`__proto__`).
 */
import { pgIdent } from './sql-identifier.js';

const SAFE = '9007199254740991';
const AS_TEXT =
  /^(text|character varying(\(\d+\))?|uuid|numeric(\(\d+(,-?\d+)?\))?|date|timestamp(\(\d\))? with(out)? time zone|bytea)$/;

function valueSql(c: string, type: string): string | undefined {
  if (type === 'smallint' || type === 'integer') return `${c}::text`;
  if (type === 'bigint')
    return `CASE WHEN ${c} BETWEEN -${SAFE} AND ${SAFE} THEN ${c}::text ELSE '"' || ${c}::text || '"' END`;
  if (type === 'boolean') return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
  if (AS_TEXT.test(type)) return `to_json(${c}::text)::text`;
  return undefined;
}

/** An array index as JavaScript orders object keys (0 … 2^32 - 2): such keys come first. */
const isIndexKey = (name: string) => /^(0|[1-9]\d*)$/.test(name) && Number(name) < 4_294_967_295;

export interface PgJsonLine {
  /** A text expression over the table aliased `t`: the row's JSON line, without the newline. */
  readonly sql: string;
  /** The value of the text[] parameter the expression reads its key prefixes from. */
  readonly prefixes: string[];
}

/**
 * The SQL that builds a row's JSON line for these columns (in table order), reading its key
 * prefixes (`{"id":`, `,"ts":`) from the text[] parameter `$<param>`; undefined when one column
 * is of a type whose line only JavaScript is sure to write the same way.
 */
export function pgJsonLine(
  columns: readonly { name: string; type: string }[],
  param: number,
): PgJsonLine | undefined {
  if (columns.length === 0) return undefined;
  const parts: string[] = [];
  const prefixes: string[] = [];
  for (const [i, col] of columns.entries()) {
    if (isIndexKey(col.name) || col.name === '__proto__') return undefined;
    const value = valueSql(`t.${pgIdent(col.name)}`, col.type);
    if (value === undefined) return undefined;
    prefixes.push(`${i === 0 ? '{' : ','}${JSON.stringify(col.name)}:`);
    parts.push(`($${param}::text[])[${i + 1}] || COALESCE(${value}, 'null')`);
  }
  return { sql: `${parts.join(' || ')} || '}'`, prefixes };
}
