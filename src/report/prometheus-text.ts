/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: a family is a name, a
 * HELP line, a TYPE and its samples. Our own writer rather than prom-client because every value
 * is read from the store at scrape time (no in-process registry to keep in step, nothing lost at
 * a restart), and the format is a page of rules: label values escaped (\\ " and newline), HELP
 * escaped (\\ and newline), numbers as Go writes them (+Inf, -Inf, NaN).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  /** Appended to the family's name: `_bucket`, `_sum`, `_count` of a histogram. */
  readonly suffix?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

/** The content type a scraper expects for this format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NEEDS_ESCAPE = /[\\"\n]/;
/** Label names already checked: one scrape writes the same few thousands of times. */
const checkedNames = new Set<string>();

export function escapeLabelValue(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Readonly<Record<string, string>>): string {
  let out = '';
  for (const k in labels) {
    if (!checkedNames.has(k)) {
      // A label name comes from our code, never from a user: a wrong one is our bug.
      if (!LABEL_NAME.test(k)) throw new Error(`invalid Prometheus label name "${k}"`);
      checkedNames.add(k);
    }
    out += `${out === '' ? '{' : ','}${k}="${escapeLabelValue(labels[k]!)}"`;
  }
  return out === '' ? '' : `${out}}`;
}

/** The families as one exposition text (every family keeps its HELP and TYPE, samples or not). */
export function writeExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples)
      lines.push(`${f.name}${s.suffix ?? ''}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
  lines.push('');
  return lines.join('\n');
}
