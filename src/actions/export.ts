/**
 * `export`: run history and metrics — or an application's own JSON / JSON Lines data files
 * (e.g. data/experiments.json) — to CSV, JSON and Markdown files in an output directory, as the
 * latest copy or as timestamped snapshots (the oldest pruned beyond `keep`).
 */
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { datasetFromRecords, EXPORT_FORMATS, type Dataset, type ExportFormat } from '../core/dataset.js';
import { PathGuard, UnsafePathError } from '../safety/path-guard.js';
import { fileNameFor, pruneSnapshots, writeDataset, type WrittenFile } from './export-files.js';
import { RecordsFileError, readRecords } from './read-records.js';
import { defineAction } from './types.js';

const schema = z.strictObject({
  source: z
    .string()
    .min(1)
    .describe('history, metrics, or a JSON / JSON Lines file (relative to the config file).'),
  format: z
    .union([z.enum(EXPORT_FORMATS), z.array(z.enum(EXPORT_FORMATS)).min(1)], {
      error: 'expected csv, json or md, or a list of them',
    })
    .transform((v) => (Array.isArray(v) ? [...new Set(v)] : [v]))
    .optional()
    .describe('@default csv'),
  output: z.string().min(1).describe('Directory the files are written to (created when missing).'),
  days: z.number().int().min(1).optional().describe('history and metrics: this many days back. @default 30'),
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'expected a file name without a directory' })
    .optional()
    .describe('Base name of the files. @default the source (history, metrics, or the file name)'),
  fields: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Columns, in order. @default every field, as first seen'),
  timestamp: z.boolean().optional().describe('Snapshots: add the time to the file name. @default false'),
  keep: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Snapshots kept per format (with timestamp: true). @default 30'),
});

const stampOf = (t: number) =>
  new Date(t)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export const exportAction = defineAction({
  name: 'export',
  description: 'Export run history, metrics or an application’s JSON/JSONL data to CSV, JSON, Markdown',
  schema,
  modifies: (o, resolvePath) => [resolvePath(o.output)],
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
    const title = `${base} (${data.rows.length} rows, ${new Date(ctx.clock.now()).toISOString()})`;
    if (ctx.dryRun) {
      const plan = formats.map(
        (f) =>
          `write ${outDir}/${fileNameFor(base, f, stamp)} (${data.rows.length} rows, ${data.columns.length} columns)`,
      );
      return {
        ok: true,
        summary: `would export ${data.rows.length} rows of ${o.source}`,
        changed: false,
        plan,
      };
    }
    const written: WrittenFile[] = formats.map((f) => writeDataset(data, f, outDir, { base, stamp, title }));
    const pruned = o.timestamp ? formats.flatMap((f) => pruneSnapshots(outDir, base, f, o.keep ?? 30)) : [];
    for (const w of written) ctx.output(`wrote ${w.file} (${w.rows} rows, ${w.bytes} bytes)\n`);
    for (const p of pruned) ctx.output(`deleted old snapshot ${p}\n`);
    return {
      ok: true,
      summary: `exported ${data.rows.length} rows of ${o.source} to ${written.map((w) => basename(w.file)).join(', ')}`,
      changed: true,
      filesModified: written.length + pruned.length,
      details: { files: written, columns: data.columns, pruned },
    };
  },
});

function toObjects(d: Dataset): Record<string, unknown>[] {
  return d.rows.map((r) => Object.fromEntries(d.columns.map((c, i) => [c, r[i]])));
}
