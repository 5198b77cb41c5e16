/**
 * Coverage summaries → covered/total per metric. Three formats, told apart by content rather than
 * by file name (a renamed report still parses): istanbul's `coverage-summary.json` (its `total`
 * block), lcov tracefiles (`LF`/`LH`, `FNF`/`FNH`, `BRF`/`BRH` summed over `SF` records), and
 * Cobertura XML (the `<coverage>` root's `lines-valid`/`lines-covered` and branch counterparts).
 */
import { XMLParser } from './xml-parser.js';

export const METRICS = ['lines', 'branches', 'functions', 'statements'] as const;
export type Metric = (typeof METRICS)[number];
export type CoverageFormat = 'istanbul-summary' | 'lcov' | 'cobertura';

export interface Count {
  readonly covered: number;
  readonly total: number;
}

export type CoverageTotals = Partial<Record<Metric, Count>>;

export type CoverageParse =
  { ok: true; format: CoverageFormat; totals: CoverageTotals } | { ok: false; reason: string };

/** Percentage with two decimals; nothing to cover counts as fully covered (istanbul says 100 too). */
export function pct(c: Count): number {
  return c.total === 0 ? 100 : Math.floor((c.covered / c.total) * 10_000) / 100;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function parseIstanbul(text: string): CoverageParse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${(err as Error).message}` };
  }
  const total = (doc as { total?: Record<string, { covered?: unknown; total?: unknown }> } | null)?.total;
  if (!total || typeof total !== 'object')
    return { ok: false, reason: 'no "total" block: not an istanbul coverage-summary.json' };
  const totals: CoverageTotals = {};
  for (const m of METRICS) {
    const covered = num(total[m]?.covered);
    const all = num(total[m]?.total);
    if (covered !== undefined && all !== undefined) totals[m] = { covered, total: all };
  }
  return { ok: true, format: 'istanbul-summary', totals };
}

function parseLcov(text: string): CoverageParse {
  const sums = { LF: 0, LH: 0, FNF: 0, FNH: 0, BRF: 0, BRH: 0 };
  const seen = new Set<string>();
  for (const raw of text.split('\n')) {
    const m = /^(LF|LH|FNF|FNH|BRF|BRH):(\d+)\s*$/.exec(raw);
    if (!m) continue;
    sums[m[1] as keyof typeof sums] += Number(m[2]);
    seen.add(m[1]![0] === 'L' ? 'lines' : m[1]!.startsWith('FN') ? 'functions' : 'branches');
  }
  const totals: CoverageTotals = {};
  if (seen.has('lines')) totals.lines = { covered: sums.LH, total: sums.LF };
  if (seen.has('functions')) totals.functions = { covered: sums.FNH, total: sums.FNF };
  if (seen.has('branches')) totals.branches = { covered: sums.BRH, total: sums.BRF };
  return { ok: true, format: 'lcov', totals };
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' });

function parseCobertura(text: string): CoverageParse {
  let doc: Record<string, unknown>;
  try {
    doc = xml.parse(text, true) as Record<string, unknown>;
  } catch (err) {
    return { ok: false, reason: `not well-formed XML: ${(err as Error).message.split('\n')[0]}` };
  }
  const root = doc.coverage as Record<string, unknown> | undefined;
  if (!root || typeof root !== 'object')
    return { ok: false, reason: 'no <coverage> root: not a Cobertura report' };
  const totals: CoverageTotals = {};
  const lv = num(root['@_lines-valid']);
  const lc = num(root['@_lines-covered']);
  if (lv !== undefined && lc !== undefined) totals.lines = { covered: lc, total: lv };
  const bv = num(root['@_branches-valid']);
  const bc = num(root['@_branches-covered']);
  if (bv !== undefined && bc !== undefined) totals.branches = { covered: bc, total: bv };
  if (!totals.lines && !totals.branches)
    return { ok: false, reason: '<coverage> has no lines-valid/lines-covered counts' };
  return { ok: true, format: 'cobertura', totals };
}

/** Detects the format from the content (and, for an empty lcov file, the name) and parses it. */
export function parseCoverage(text: string, name = ''): CoverageParse {
  const head = text.trimStart();
  if (head.startsWith('{')) return parseIstanbul(text);
  if (head.startsWith('<')) return parseCobertura(text);
  if (/^(TN|SF):/m.test(head) || (head === '' && /lcov/i.test(name))) return parseLcov(text);
  return {
    ok: false,
    reason: 'not a coverage summary (expected istanbul coverage-summary.json, lcov or Cobertura XML)',
  };
}

/** Sums the counts of several reports of one format (e.g. one lcov file per package). */
export function sumTotals(all: readonly CoverageTotals[]): CoverageTotals {
  const out: CoverageTotals = {};
  for (const t of all)
    for (const m of METRICS) {
      const c = t[m];
      if (!c) continue;
      const prev = out[m] ?? { covered: 0, total: 0 };
      out[m] = { covered: prev.covered + c.covered, total: prev.total + c.total };
    }
  return out;
}
