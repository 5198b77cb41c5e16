/**
 * Where a configuration keeps its state, read from the file without validating it: enough to
 * find a running daemon and the history, even when the file has errors (a broken edit must not
 * blind the operator to the daemon still running on the last good configuration).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type * as Yaml from 'yaml';
import { statePaths, type StatePaths } from './state-paths.js';

export interface StateLocation extends StatePaths {
  /** The configuration file, absolute. */
  readonly file: string;
  readonly dir: string;
  /** Why `state_dir:`/`store:` could not be read from the file (then the defaults are used). */
  readonly problem?: string;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The top-level keys that say where state and history are. */
interface StateKeys {
  state_dir?: string;
  store?: string;
  store_env?: string;
  store_schema?: string;
}

/** A top-level `state_dir:`/`store:` line whose value is a plain or simply quoted scalar. */
const KEY_LINE =
  /^(state_dir|store|store_env|store_schema)[ \t]*:(?:[ \t]+(?:'([^'\n]*)'|"([^"\\\n]*)"|([^\s#'"&*!|>{}[\],%@`][^\n]*?)))?(?:[ \t]+#[^\n]*)?[ \t]*$/gm;
/** Any line that puts either key at the top level, matched by KEY_LINE or not. */
const KEY_START = /^(?:state_dir|store|store_env|store_schema)[ \t]*:/gm;
/** Anything that could give either key another value than its one plain line says. */
const UNSURE = /^(?:---|\.\.\.|%|[{["'?!&*])|<<|\r/m;

/**
 * `state_dir:` and `store:` read from the text without the YAML parser, when the file is an
 * ordinary block mapping and each key is on one line of its own: the commands that only need to
 * find the daemon and the history (`status`, `list-tasks`, `history`, `stop`) are spared loading
 * the parser and running it over a large file. Undefined when unsure: then the parser decides.
 */
export function scanStateKeys(source: string): StateKeys | undefined {
  if (UNSURE.test(source)) return undefined;
  // The mapping starts at column 0 (an indented document has its keys elsewhere).
  const first = /^(?![ \t]*(?:#|$))([ \t]*)/m.exec(source);
  if (first && first[1] !== '') return undefined;
  const found: StateKeys = {};
  let lines = 0;
  for (const m of source.matchAll(KEY_LINE)) {
    const key = m[1] as keyof StateKeys;
    const value = m[2] ?? m[3] ?? m[4] ?? '';
    // Twice is the parser's error to report; ": " in a plain value is not a plain scalar.
    if (key in found || (m[4] !== undefined && value.includes(': '))) return undefined;
    // A key without a value on its line, or a plain scalar, may go on in indented lines (past
    // blank and comment lines).
    const next = /^(?:[ \t]*(?:#[^\n]*)?\n)*([ \t]*)\S/.exec(source.slice(m.index + m[0].length + 1));
    if (next && next[1] !== '') return undefined;
    found[key] = value;
    lines++;
  }
  if ((source.match(KEY_START)?.length ?? 0) !== lines) return undefined;
  return found;
}

function parseYaml(source: string): unknown {
  const { parse } = createRequire(import.meta.url)('yaml') as typeof Yaml;
  return parse(source, { maxAliasCount: 100 });
}

export function locateState(configPath: string): StateLocation {
  const file = resolve(configPath);
  const dir = dirname(file);
  let doc: unknown;
  try {
    const source = readFileSync(file, 'utf8');
    doc = scanStateKeys(source) ?? parseYaml(source);
  } catch (err) {
    // A file system error has a syscall; the YAML parser's errors have a code too (BAD_INDENT).
    const { code, syscall } = err as NodeJS.ErrnoException;
    const problem =
      code === 'ENOENT' ? 'no such file' : syscall ? `cannot be read (${code})` : 'is not valid YAML';
    return { file, dir, ...statePaths(dir, undefined, undefined), problem };
  }
  const raw = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  return {
    file,
    dir,
    ...statePaths(dir, text(raw.state_dir), {
      store: text(raw.store),
      store_env: text(raw.store_env),
      store_schema: text(raw.store_schema),
    }),
  };
}
