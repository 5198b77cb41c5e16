/**
 * A table of records and its three renderings: CSV (RFC 4180), a Markdown table, JSON. Used by
 * `caretaker export`, the `export` action and the reports. Pure: strings in, strings out.
 */

export type Cell = string | number | boolean | null;

export interface Dataset {
  readonly name: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

export const EXPORT_FORMATS = ['csv', 'json', 'md'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nested objects become dotted columns (`stats.hit_rate`); lists are kept as JSON text. */
export function flattenRecord(
  value: unknown,
  prefix = '',
  out: Record<string, Cell> = {},
): Record<string, Cell> {
  if (!isPlainObject(value)) {
    out[prefix || 'value'] = toCell(value);
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v) && Object.keys(v).length > 0) flattenRecord(v, key, out);
    else out[key] = toCell(v);
  }
  return out;
}

function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

/**
 * Records → a dataset. Columns are `columns` when given, else every key in first-seen order, so
 * the output is stable for the same input.
 */
export function datasetFromRecords(
  name: string,
  records: readonly unknown[],
  columns?: readonly string[],
): Dataset {
  const flat = records.map((r) => flattenRecord(r));
  let cols = columns ? [...columns] : [];
  if (!columns) {
    const seen = new Set<string>();
    for (const r of flat) {
      for (const k of Object.keys(r)) {
        if (seen.has(k)) continue;
        seen.add(k);
        cols.push(k);
      }
    }
    if (cols.length === 0) cols = ['value'];
  }
  return { name, columns: cols, rows: flat.map((r) => cols.map((c) => r[c] ?? null)) };
}

function csvField(c: Cell): string {
  if (c === null) return '';
  const s = String(c);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180: CRLF line ends, fields with commas, quotes or line breaks quoted. */
export function toCsv(d: Dataset): string {
  const lines = [d.columns.map(csvField).join(','), ...d.rows.map((r) => r.map(csvField).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

function mdCell(c: Cell): string {
  if (c === null) return '';
  return String(c).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** A GitHub-flavoured Markdown table; numbers are right-aligned. */
export function toMarkdownTable(d: Pick<Dataset, 'columns' | 'rows'>): string {
  if (d.columns.length === 0) return '';
  const numeric = d.columns.map(
    (_, i) => d.rows.length > 0 && d.rows.every((r) => r[i] === null || typeof r[i] === 'number'),
  );
  const head = `| ${d.columns.map((c) => mdCell(c)).join(' | ')} |`;
  const rule = `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`;
  const body = d.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`);
  return [head, rule, ...body].join('\n');
}

/** A JSON array of objects, one per row. */
export function toJsonRecords(d: Dataset): string {
  const objects = d.rows.map((r) => Object.fromEntries(d.columns.map((c, i) => [c, r[i] ?? null])));
  return `${JSON.stringify(objects, null, 2)}\n`;
}

export function renderDataset(d: Dataset, format: ExportFormat, title?: string): string {
  if (format === 'csv') return toCsv(d);
  if (format === 'json') return toJsonRecords(d);
  const heading = title ?? d.name;
  return `# ${heading}\n\n${d.rows.length === 0 ? '_(no rows)_' : toMarkdownTable(d)}\n`;
}
