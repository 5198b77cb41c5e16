/**
 * Rows as archive text: JSON Lines (one object per row) or CSV (a header, RFC 4180 quoting; NULL
 * is an empty unquoted field and the empty string is "", as PostgreSQL's COPY … CSV writes them).
 * Binary values are written as PostgreSQL's hex text (`\x0102`), integers beyond 2^53 as text.
 */

export type ArchiveFormat = 'jsonl' | 'csv';
export type Row = Readonly<Record<string, unknown>>;

function plain(value: unknown): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  return value;
}

function jsonLine(row: Row): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = plain(v);
  return JSON.stringify(out);
}

function csvField(value: unknown): string {
  const v = plain(value);
  if (v === null || v === undefined) return '';
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return text === '' || /[",\r\n]/.test(text) || text.trim() !== text
    ? `"${text.replaceAll('"', '""')}"`
    : text;
}

/** The archive text of one batch (not yet compressed). */
export function encodeRows(rows: readonly Row[], columns: readonly string[], format: ArchiveFormat): string {
  if (format === 'jsonl') return rows.map((r) => `${jsonLine(r)}\n`).join('');
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Parses CSV written by encodeRows: a list of records of fields (null for an empty unquoted field). */
function parseCsv(text: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  let record: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    let field: string | null;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted CSV field');
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      field = value;
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\r' && text[end] !== '\n') end++;
      field = end === i ? null : text.slice(i, end);
      i = end;
    }
    record.push(field);
    if (text[i] === ',') i++;
    else {
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      records.push(record);
      record = [];
    }
  }
  return records;
}

/**
 * The values of `column` in an archive's text, in order. Throws when the column is absent (the
 * archive was written for another key) or the text is damaged.
 */
export function readColumn(text: string, format: ArchiveFormat, column: string): unknown[] {
  if (format === 'jsonl') {
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((line, n) => {
        const row = JSON.parse(line) as Record<string, unknown>;
        if (!(column in row)) throw new Error(`line ${n + 1} has no ${JSON.stringify(column)} field`);
        return row[column];
      });
  }
  const [header, ...records] = parseCsv(text);
  const at = header?.indexOf(column) ?? -1;
  if (at < 0) throw new Error(`the CSV header has no ${JSON.stringify(column)} column`);
  return records.map((r) => r[at]);
}

/** All rows of an archive's text (for tests and for users' tooling through the library). */
export function decodeRows(text: string, format: ArchiveFormat): Record<string, unknown>[] {
  if (format === 'jsonl') {
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  const [header, ...records] = parseCsv(text);
  return records.map((r) => Object.fromEntries((header ?? []).map((h, i) => [h ?? '', r[i] ?? null])));
}
