/**
 * `export`: run history and metrics — or an application's own JSON / JSON Lines data files
 * (e.g. data/experiments.json) — to CSV, JSON and Markdown files in an output directory, as the
 * latest copy or as timestamped snapshots (the oldest pruned beyond `keep`).
 */
import { formatSize } from '../core/size.js';
import { plural } from '../core/plural.js';
import { basename, extname } from 'node:path';
import { datasetFromRecords, type Dataset, type ExportFormat } from '../core/dataset.js';
import { PathGuard, UnsafePathError } from '../safety/path-guard.js';
import { fileNameFor, pruneSnapshots, writeDataset, type WrittenFile } from './export-files.js';
import { RecordsFileError, readRecords } from './read-records.js';
import { defineAction } from './types.js';
import { exportDeclaration } from './export/declaration.js';

const stampOf = (t: number) =>
  new Date(t)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export const exportAction = defineAction({
  ...exportDeclaration,
  async run(ctx, o) {
    const formats: ExportFormat[] = o.format ?? ['csv'];
    const outDir = ctx.resolvePath(o.output);
    try {
      new PathGuard({ stateDir: ctx.stateDir }).assertRoot(outDir, 'output');
    } catch (err) {
      if (err instanceof UnsafePathError) return { ok: false, summary: err.message, changed: false };
      throw err;
    }
    const days = o.days ?? 30;
    let data: Dataset;
    if (o.source === 'history' || o.source === 'metrics') {
      if (!ctx.datasets)
        return { ok: false, summary: `${o.source} can only be exported by a running caretaker` };
      data = await ctx.datasets.get(o.source, { days });
      if (o.fields) data = datasetFromRecords(data.name, toObjects(data), o.fields);
    } else {
      const file = ctx.resolvePath(o.source);
      try {
        const records = await readRecords(file);
        data = datasetFromRecords(basename(file, extname(file)), records, o.fields);
      } catch (err) {
        if (err instanceof RecordsFileError) return { ok: false, summary: err.message, changed: false };
        throw err;
      }
    }
    const base = o.name ?? data.name;
    const stamp = o.timestamp ? stampOf(ctx.clock.now()) : undefined;
    const title = `${base} (${plural(data.rows.length, 'row')}, ${new Date(ctx.clock.now()).toISOString()})`;
    if (ctx.dryRun) {
      const plan = formats.map(
        (f) =>
          `write ${outDir}/${fileNameFor(base, f, stamp)} (${plural(data.rows.length, 'row')}, ${plural(data.columns.length, 'column')})`,
      );
      return {
        ok: true,
        summary: `would export ${plural(data.rows.length, 'row')} of ${o.source}`,
        changed: false,
        plan,
      };
    }
    const written: WrittenFile[] = formats.map((f) => writeDataset(data, f, outDir, { base, stamp, title }));
    const pruned = o.timestamp ? formats.flatMap((f) => pruneSnapshots(outDir, base, f, o.keep ?? 30)) : [];
    for (const w of written)
      ctx.output(`wrote ${w.file} (${plural(w.rows, 'row')}, ${formatSize(w.bytes)})\n`);
    for (const p of pruned) ctx.output(`deleted old snapshot ${p}\n`);
    return {
      ok: true,
      summary: `exported ${plural(data.rows.length, 'row')} of ${o.source} to ${written.map((w) => basename(w.file)).join(', ')}`,
      changed: true,
      filesModified: written.length + pruned.length,
      details: { files: written, columns: data.columns, pruned },
    };
  },
});

function toObjects(d: Dataset): Record<string, unknown>[] {
  return d.rows.map((r) => Object.fromEntries(d.columns.map((c, i) => [c, r[i]])));
}
