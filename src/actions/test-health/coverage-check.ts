/** The coverage reports a run wrote, summed per metric and held against `min_coverage`. */
import { readFile } from 'node:fs/promises';
import { basename, relative } from 'node:path';
import {
  METRICS,
  parseCoverage,
  pct,
  sumTotals,
  type CoverageFormat,
  type CoverageTotals,
  type Metric,
} from './coverage.js';
import { freshFiles, type Stamps } from './report-files.js';

export type Thresholds = Partial<Record<Metric, number>>;

export interface MetricResult {
  readonly covered: number;
  readonly total: number;
  readonly pct: number;
  readonly min: number | null;
  readonly ok: boolean;
}

export interface CoverageOutcome {
  readonly format: CoverageFormat | null;
  readonly files: string[];
  /** Files of another format than the one used (reading both would count lines twice). */
  readonly ignored: string[];
  readonly metrics: Partial<Record<Metric, MetricResult>>;
  /** "lines 72.5% < 80%", "functions: not in the lcov report". */
  readonly shortfalls: string[];
  readonly warnings: string[];
}

/** istanbul's summary has all four metrics, Cobertura two, lcov three: prefer the richest. */
const PREFERENCE: readonly CoverageFormat[] = ['istanbul-summary', 'cobertura', 'lcov'];

export async function checkCoverage(
  cwd: string,
  patterns: readonly string[],
  before: Stamps,
  thresholds: Thresholds,
): Promise<CoverageOutcome> {
  const { fresh, stale } = await freshFiles(cwd, patterns, before);
  const warnings: string[] = [];
  const parsed: { file: string; format: CoverageFormat; totals: CoverageTotals }[] = [];
  for (const f of fresh) {
    const r = parseCoverage(await readFile(f, 'utf8'), basename(f));
    if (r.ok) parsed.push({ file: relative(cwd, f), format: r.format, totals: r.totals });
    else warnings.push(`coverage file ${relative(cwd, f)} was not read: ${r.reason}`);
  }
  const format = PREFERENCE.find((p) => parsed.some((x) => x.format === p)) ?? null;
  const used = parsed.filter((x) => x.format === format);
  const totals = sumTotals(used.map((x) => x.totals));
  const shortfalls: string[] = [];
  const metrics: Partial<Record<Metric, MetricResult>> = {};
  if (format === null) {
    const globs = patterns.map((g) => `"${g}"`).join(', ');
    const why =
      stale.length > 0
        ? `matched only files left from an earlier run (${relative(cwd, stale[0]!)})`
        : fresh.length > 0
          ? 'matched no readable coverage summary'
          : 'matched no file';
    const line = `no coverage report was written: coverage ${globs} ${why}`;
    if (Object.keys(thresholds).length > 0) shortfalls.push(line);
    else warnings.push(line);
  } else {
    for (const m of METRICS) {
      const c = totals[m];
      const min = thresholds[m] ?? null;
      if (!c) {
        if (min !== null)
          shortfalls.push(`${m} coverage is not in the ${format} report, so min ${min}% cannot be checked`);
        continue;
      }
      const p = pct(c);
      const ok = min === null || p >= min;
      metrics[m] = { covered: c.covered, total: c.total, pct: p, min, ok };
      if (!ok) shortfalls.push(`${m} coverage ${p}% is below ${min}% (${c.covered}/${c.total})`);
    }
  }
  return {
    format,
    files: used.map((x) => x.file),
    ignored: parsed.filter((x) => x.format !== format).map((x) => x.file),
    metrics,
    shortfalls,
    warnings,
  };
}
