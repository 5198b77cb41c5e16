/** `caretaker export`: history, metrics and incidents of the last N days as files in a directory. */
import { resolve } from 'node:path';
import { writeDataset, type WrittenFile } from '../actions/export-files.js';
import type { ExportFormat } from '../core/dataset.js';
import { UsageError } from '../errors/usage-error.js';
import { recordDatasets } from '../report/datasets.js';
import { PathGuard, UnsafePathError } from '../safety/path-guard.js';
import type { Store } from '../store/types.js';

export interface ExportRequest {
  readonly dir: string;
  readonly formats: readonly ExportFormat[];
  readonly days: number;
}

export async function exportRecords(
  store: Store,
  stateDir: string,
  now: number,
  r: ExportRequest,
): Promise<WrittenFile[]> {
  const dir = resolve(r.dir);
  try {
    new PathGuard({ stateDir }).assertRoot(dir, '--output');
  } catch (err) {
    if (err instanceof UnsafePathError) throw new UsageError(err.message);
    throw err;
  }
  const written: WrittenFile[] = [];
  for (const d of await recordDatasets(store, r.days, now))
    for (const f of r.formats)
      written.push(writeDataset(d, f, dir, { title: `${d.name} (last ${r.days} days)` }));
  return written;
}
