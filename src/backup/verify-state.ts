/**
 * The last verification of an archive, kept next to it in `<archive>.verify.json` (written
 * atomically, one small file per archive so a scheduled verify and a `backup verify` run never
 * overwrite each other's results for different archives), shown by `caretaker backup list`.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../os/atomic-write.js';

export interface VerifyState {
  /** ISO time of the check. */
  readonly at: string;
  readonly ok: boolean;
  /** `full`: every entry re-read and hashed. */
  readonly scope: 'full';
  /** Who checked: the backup itself, the verify-backups action, the CLI, a restore. */
  readonly by: 'backup' | 'verify-backups' | 'cli' | 'restore' | 'drill';
  readonly problems: readonly string[];
}

export function verifyStatePathOf(archivePath: string): string {
  return `${archivePath}.verify.json`;
}

export function readVerifyState(archivePath: string): VerifyState | undefined {
  try {
    const raw = JSON.parse(readFileSync(verifyStatePathOf(archivePath), 'utf8')) as Partial<VerifyState>;
    if (typeof raw.at !== 'string' || typeof raw.ok !== 'boolean') return undefined;
    return {
      at: raw.at,
      ok: raw.ok,
      scope: 'full',
      by: raw.by ?? 'cli',
      problems: Array.isArray(raw.problems) ? raw.problems.map(String) : [],
    };
  } catch {
    return undefined;
  }
}

export function writeVerifyState(archivePath: string, state: VerifyState): void {
  writeFileAtomicSync(verifyStatePathOf(archivePath), `${JSON.stringify(state, null, 2)}\n`);
}
