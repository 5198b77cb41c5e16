import type { LicenseInfo } from './license-text.js';

/** One installed package and its declared licence. */
export interface InstalledPackage {
  readonly manager: 'npm' | 'pip';
  readonly name: string;
  readonly version: string;
  /** Where it is installed, relative to the project (npm) or absolute (pip). */
  readonly path: string;
  readonly license: LicenseInfo;
  /** npm: the lockfile marks it as needed only for development. */
  readonly dev?: boolean;
}
