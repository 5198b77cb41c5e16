/**
 * Writes tables (datasets) to files in an output directory, one file per dataset and format,
 * atomically; `caretaker export` and the `export` action share it. A symlinked output file is
 * replaced, never followed out of the directory.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { renderDataset, type Dataset, type ExportFormat } from '../core/dataset.js';
import { writeFileAtomicSync } from '../os/atomic-write.js';

export interface WrittenFile {
  readonly file: string;
  readonly format: ExportFormat;
  readonly rows: number;
  readonly bytes: number;
}

export const EXTENSION: Record<ExportFormat, string> = { csv: 'csv', json: 'json', md: 'md' };

export function fileNameFor(base: string, format: ExportFormat, stamp?: string): string {
  return `${base}${stamp ? `-${stamp}` : ''}.${EXTENSION[format]}`;
}

export function writeDataset(
  d: Dataset,
  format: ExportFormat,
  dir: string,
  opts: { base?: string; stamp?: string; title?: string } = {},
): WrittenFile {
  const file = join(dir, fileNameFor(opts.base ?? d.name, format, opts.stamp));
  const text = renderDataset(d, format, opts.title);
  writeFileAtomicSync(file, text);
  return { file, format, rows: d.rows.length, bytes: Buffer.byteLength(text) };
}

/** Deletes the oldest timestamped snapshots of `base` beyond `keep` (per format). */
export function pruneSnapshots(dir: string, base: string, format: ExportFormat, keep: number): string[] {
  const re = new RegExp(
    `^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{8}T\\d{6}Z\\.${EXTENSION[format]}$`,
  );
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => re.test(n))
      .sort();
  } catch {
    return [];
  }
  const drop = names.slice(0, Math.max(0, names.length - keep));
  for (const n of drop) rmSync(join(dir, n), { force: true });
  return drop;
}
