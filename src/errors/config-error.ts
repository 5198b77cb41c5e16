/** One problem in a configuration file, positioned for the user. */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number; // 1-based; 0 when unknown
  readonly column: number; // 1-based; 0 when unknown
  /** Dot path of the key, e.g. `tasks.rotate-app-logs.with.rotate`; empty for the whole file. */
  readonly path: string;
  /** What is wrong and what was expected. */
  readonly message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return `${where}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
}

/** The configuration cannot be used. Carries every problem found, not just the first. Exit 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode = 2;
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}
