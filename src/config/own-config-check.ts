/**
 * caretaker's own config checked the way validate-config checks an application's: the
 * environment variables it names (`*_env` keys: present or not, and how long, never the value),
 * and drift key by key since the running scheduler loaded it (secrets masked).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diffKeys, flattenKeys, type FlatKeys, type KeyDrift } from '../schema/config-files/config-drift.js';
import { parseYaml } from '../schema/config-files/yaml-file.js';
import { writeFileAtomic } from '../os/atomic-write.js';
import { sha256File } from '../safety/blob-store.js';
import { LOADED_CONFIG_FILE } from './loaded-stamp.js';

export interface EnvReference {
  readonly name: string;
  /** Where the config names it, e.g. server.token_env. */
  readonly key: string;
  readonly present: boolean;
  readonly length: number;
}

interface LoadedConfig {
  readonly version: 1;
  readonly file: string;
  readonly loadedAt: number;
  readonly sha256: string;
  readonly salt: string;
  readonly keys: FlatKeys;
}

const LOADED = LOADED_CONFIG_FILE;

async function parsed(file: string): Promise<unknown> {
  // The YAML parser alone, not parseConfigText's every format: validate and the daemon's start
  // would otherwise load the TOML, JSONC and dotenv parsers for caretaker's own YAML file.
  const text = await readFile(file, 'utf8');
  const outcome = parseYaml(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (!outcome.ok) throw new Error(outcome.problems[0]!.message);
  return outcome.file.data;
}

/** Every `*_env` key of the config (its data as read) with whether its variable is set. */
export function envReferences(data: unknown): EnvReference[] {
  const out: EnvReference[] = [];
  const visit = (value: unknown, path: string) => {
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${path}.${i}`));
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        const key = path ? `${path}.${k}` : k;
        if (k.endsWith('_env') && typeof v === 'string') {
          const set = process.env[v];
          out.push({ name: v, key, present: set !== undefined, length: set?.length ?? 0 });
        } else visit(v, key);
      }
    }
  };
  visit(data, '');
  return out;
}

/** Written by a starting or reloading scheduler: what it is running, to compare the file against. */
export async function recordLoadedConfig(file: string, stateDir: string, now: number): Promise<void> {
  const salt = randomBytes(16).toString('hex');
  const snapshot: LoadedConfig = {
    version: 1,
    file,
    loadedAt: now,
    sha256: await sha256File(file),
    salt,
    keys: flattenKeys(await parsed(file), salt),
  };
  await writeFileAtomic(join(stateDir, LOADED), `${JSON.stringify(snapshot)}\n`, { mode: 0o600 });
}

/** What changed in the file since the scheduler loaded it; null when no scheduler recorded it. */
export async function driftSinceLoaded(
  file: string,
  stateDir: string,
): Promise<{ loadedAt: number; drift: KeyDrift } | null> {
  let loaded: LoadedConfig;
  try {
    loaded = JSON.parse(await readFile(join(stateDir, LOADED), 'utf8')) as LoadedConfig;
  } catch {
    return null;
  }
  if (loaded.version !== 1 || loaded.file !== file) return null;
  const drift =
    (await sha256File(file)) === loaded.sha256
      ? { added: [], removed: [], changed: [] }
      : diffKeys(loaded.keys, flattenKeys(await parsed(file), loaded.salt));
  return { loadedAt: loaded.loadedAt, drift };
}
