/** What the checkers report, in one shape whatever the tool: a finding with its place and weight. */

export const SEVERITIES = ['info', 'warning', 'error'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FORMATS = ['eslint-json', 'tsc', 'ruff-json', 'prettier-check', 'sarif', 'exit-code'] as const;
export type OutputFormat = (typeof FORMATS)[number];

export interface Issue {
  readonly tool: string;
  readonly severity: Severity;
  /** Relative to the checked directory (posix separators); null for a finding about no one file. */
  readonly file: string | null;
  readonly line?: number;
  readonly column?: number;
  /** The tool's rule or code, e.g. `no-unused-vars`, `TS2322`, `F401`. */
  readonly rule?: string;
  readonly message: string;
}

/** What a parser made of a tool's output: its findings, or why the output is not a report. */
export type Parsed = { ok: true; issues: Issue[] } | { ok: false; reason: string };

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export interface IssueCounts {
  readonly total: number;
  readonly bySeverity: Record<Severity, number>;
  /** Issues per file, the most affected first, at most `maxFiles` of them. */
  readonly byFile: Record<string, number>;
  /** Files with issues (exact, even when `byFile` is cut short). */
  readonly files: number;
}

export function countIssues(issues: readonly Issue[], maxFiles = 100): IssueCounts {
  const bySeverity: Record<Severity, number> = { info: 0, warning: 0, error: 0 };
  const perFile = new Map<string, number>();
  for (const i of issues) {
    bySeverity[i.severity] += 1;
    const f = i.file ?? '(no file)';
    perFile.set(f, (perFile.get(f) ?? 0) + 1);
  }
  const top = [...perFile].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, maxFiles);
  return { total: issues.length, bySeverity, byFile: Object.fromEntries(top), files: perFile.size };
}

// Lines that say nothing about what went wrong: npm's config warnings, ESLint's crash banner.
const NOISE = /^(npm warn |Oops! Something went wrong|ESLint: \d)/i;

/** The first line of text that says something, for one-line reasons. */
export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0 && !NOISE.test(l)) ?? ''
  );
}

/** The last `lines` lines of output, for a verify command's record. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export { plural } from '../../core/plural.js';
