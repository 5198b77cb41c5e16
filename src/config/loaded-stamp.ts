/**
 * What a running scheduler loaded (`state_dir/config-loaded.json`, written at start and reload):
 * is the file still those bytes? Cheap (a hash of one small file), so read-only commands that ask
 * the daemon need not load the configuration unless it changed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOADED_CONFIG_FILE = 'config-loaded.json';

export interface LoadedStamp {
  readonly loadedAt: number;
  /** The file holds the bytes the scheduler loaded. */
  readonly same: boolean;
}

/** null when no scheduler recorded loading this file. */
export function loadedStamp(file: string, stateDir: string): LoadedStamp | null {
  let loaded: { version?: number; file?: string; loadedAt?: number; sha256?: string };
  try {
    loaded = JSON.parse(readFileSync(join(stateDir, LOADED_CONFIG_FILE), 'utf8')) as typeof loaded;
  } catch {
    return null;
  }
  if (loaded.version !== 1 || loaded.file !== file || typeof loaded.loadedAt !== 'number') return null;
  let sha256: string;
  try {
    sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return { loadedAt: loaded.loadedAt, same: false };
  }
  return { loadedAt: loaded.loadedAt, same: sha256 === loaded.sha256 };
}
