/** Where a configuration keeps its state: the one rule, shared by the loader and `locateState`. */
import { isAbsolute, resolve } from 'node:path';
import { redactUrl } from '../core/redact-url.js';
import type { StoreConfig } from './types.js';

export const DEFAULT_STATE_DIR = '.caretaker';
export const DEFAULT_PG_SCHEMA = 'caretaker';

/** `store:` names a PostgreSQL server. */
export const isPostgresUrl = (text: string): boolean => /^postgres(ql)?:\/\//.test(text);

export interface StatePaths {
  readonly stateDir: string;
  /** The SQLite history database (where it would be, for a postgres store). */
  readonly storePath: string;
  /** The store to open. */
  readonly store: StoreConfig;
  /** The store for messages: the path, or the URL with its password masked. */
  readonly storeLabel: string;
}

/** The store keys as written (or absent). */
export interface StoreKeys {
  readonly store?: string;
  /** The environment variable that holds the store URL (a secret: never printed). */
  readonly store_env?: string;
  readonly store_schema?: string;
}

export function storeLabel(store: StoreConfig): string {
  return store.kind === 'sqlite' ? store.path : `${redactUrl(store.url)} (schema ${store.schema})`;
}

/** `state_dir:` and the store keys as written (or absent), against the config file's directory. */
export function statePaths(
  dir: string,
  stateDir: string | undefined,
  keys: StoreKeys | string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): StatePaths {
  const k: StoreKeys = typeof keys === 'string' ? { store: keys } : (keys ?? {});
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const state = abs(stateDir ?? DEFAULT_STATE_DIR);
  const text = k.store_env !== undefined ? (env[k.store_env] ?? '') : (k.store ?? 'sqlite');
  const storePath = text.startsWith('sqlite:')
    ? abs(text.slice('sqlite:'.length))
    : resolve(state, 'caretaker.db');
  const store: StoreConfig =
    k.store_env !== undefined || isPostgresUrl(text)
      ? { kind: 'postgres', url: text, schema: k.store_schema ?? DEFAULT_PG_SCHEMA }
      : { kind: 'sqlite', path: storePath };
  return { stateDir: state, storePath, store, storeLabel: storeLabel(store) };
}
