/** The one typed result audit-deps builds from npm's and pip's reports. */

export const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type Manager = 'npm' | 'pip';
/** How far `latest` is from `current`. */
export type UpdateLevel = 'major' | 'minor' | 'patch' | 'other';

export interface OutdatedPackage {
  readonly manager: Manager;
  readonly name: string;
  /** Installed version; null when the package is declared but not installed. */
  readonly current: string | null;
  /** Newest version the declared range allows (npm only). */
  readonly wanted: string | null;
  readonly latest: string;
  readonly level: UpdateLevel;
}

export interface Advisory {
  readonly manager: Manager;
  /** The package the advisory is about. */
  readonly package: string;
  readonly severity: Severity;
  readonly title: string;
  readonly url: string | null;
  /** Affected versions. */
  readonly range: string | null;
  /** Installed packages exposed through it (the package itself and those depending on it). */
  readonly affects: readonly string[];
  /** Is a fixed version reachable by `npm audit fix`? */
  readonly fixAvailable: boolean;
  /** The fix needs a major update of this package. */
  readonly fixIsMajor: boolean;
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
