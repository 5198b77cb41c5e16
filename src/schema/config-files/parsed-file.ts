/** What every config-file parser returns: the data, or problems with exact positions. */
import type { KeyDrift } from './config-drift.js';

export type ConfigFormat = 'yaml' | 'json' | 'toml' | 'env';
export const CONFIG_FORMATS: readonly ConfigFormat[] = ['yaml', 'json', 'toml', 'env'];

/** A key path inside a file's data: map keys and list indexes. */
export type DataPath = readonly (string | number)[];

export interface Position {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/** A problem in a file: where it is and what is wrong. `path` is empty for syntax errors. */
export interface FileProblem extends Position {
  readonly path: string;
  readonly message: string;
}

export interface ParsedConfig {
  readonly format: ConfigFormat;
  /** Plain JSON-compatible data (dates as ISO strings). */
  readonly data: unknown;
  /** Where the value at `path` is written, or where its nearest existing parent is. */
  locate(path: DataPath): Position;
  /** Where the key `key` of the map at `path` is written (for unknown keys); falls back to the map. */
  locateKey(path: DataPath, key: string): Position;
}

/** One file's outcome in validate-config. */
export interface FileReport {
  readonly file: string;
  readonly format: ConfigFormat | null;
  readonly valid: boolean;
  readonly problems: readonly FileProblem[];
  readonly sha256?: string;
  readonly baseline?: 'recorded' | 'unchanged' | 'formatting only' | 'drifted' | 'deleted';
  readonly drift?: KeyDrift;
}

export type ParseOutcome =
  | { readonly ok: true; readonly file: ParsedConfig }
  | { readonly ok: false; readonly problems: readonly FileProblem[] };

/** Offsets → 1-based line and column. */
export class LineIndex {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.#starts.push(i + 1);
  }

  at(offset: number): Position {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.#starts[lo]! + 1 };
  }
}

/** `materials.copper.density`, `servers.0.host`. */
export function joinPath(path: DataPath): string {
  return path.map(String).join('.');
}

/** The format a file name implies: .yaml/.yml, .json, .toml, .env and .env.* / *.env. */
export function formatOf(file: string): ConfigFormat | undefined {
  const name = file.split('/').pop()!.toLowerCase();
  if (/\.ya?ml$/.test(name)) return 'yaml';
  if (/\.json$/.test(name)) return 'json';
  if (/\.toml$/.test(name)) return 'toml';
  if (name === '.env' || name.startsWith('.env.') || name.endsWith('.env')) return 'env';
  return undefined;
}
