/** Where a configuration keeps its state: the one rule, shared by the loader and `locateState`. */
import { isAbsolute, resolve } from 'node:path';

export const DEFAULT_STATE_DIR = '.caretaker';

export interface StatePaths {
  readonly stateDir: string;
  /** The SQLite history database. */
  readonly storePath: string;
}

/** `state_dir:` and `store:` as written (or absent), against the config file's directory. */
export function statePaths(dir: string, stateDir: string | undefined, store: string | undefined): StatePaths {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const state = abs(stateDir ?? DEFAULT_STATE_DIR);
  const text = store ?? 'sqlite';
  return {
    stateDir: state,
    storePath: text.startsWith('sqlite:')
      ? abs(text.slice('sqlite:'.length))
      : resolve(state, 'caretaker.db'),
  };
}
