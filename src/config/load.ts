/**
 * Reads caretaker.yaml: YAML with positions, the schema, the cross-key checks, then resolution.
 * Every problem is collected and thrown together as one ConfigError.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import type { ActionRegistry } from '../actions/registry.js';
import { checkAlerting } from './alerting-checks.js';
import { checkTasks } from './checks.js';
import { resolveConfig } from './resolve.js';
import { checkTargets } from './target-checks.js';
import { configSchema } from './schema.js';
import { SourceMap, yamlErrorAt } from '../schema/source-map.js';
import { clip, duplicateKeys, nulPaths, reservedKeys, toData } from '../schema/yaml-guards.js';
import type { Config } from './types.js';
import { isPostgresUrl } from './state-paths.js';
import { redactUrl } from '../core/redact-url.js';
import { describeIssues, errorMap, type PathMessage } from '../schema/zod-issues.js';

export interface LoadOptions {
  readonly registry: ActionRegistry;
  /** The host name runs are recorded under (default: `host:` in the file, then os.hostname()). */
  readonly host?: string;
}

export function loadConfigFile(file: string, opts: LoadOptions): Config {
  const abs = resolve(file);
  return parseConfigText(readConfigText(abs), abs, opts);
}

/**
 * loadConfigFile for a registry of deferred actions: the YAML is read, then the declarations of
 * the actions it names are imported, then it is checked. The same Config, the same ConfigError.
 */
export async function loadConfigFileAsync(file: string, opts: LoadOptions): Promise<Config> {
  const abs = resolve(file);
  return parseConfigTextAsync(readConfigText(abs), abs, opts);
}

/** loadConfigFileAsync, with the file's data as read (before the schema), for a second look. */
export async function loadConfigFileWithData(
  file: string,
  opts: LoadOptions,
): Promise<{ config: Config; data: Record<string, unknown> }> {
  const abs = resolve(file);
  const read = readYaml(readConfigText(abs), abs);
  await opts.registry.load(actionNames(read.data));
  return { config: checkConfig(read, abs, opts), data: read.data };
}

/** Parses config text as if it were the file `file` (relative paths resolve against its dir). */
export function parseConfigText(text: string, file: string, opts: LoadOptions): Config {
  return checkConfig(readYaml(text, file), file, opts);
}

/** parseConfigText, importing the declarations of the actions the text names first. */
export async function parseConfigTextAsync(text: string, file: string, opts: LoadOptions): Promise<Config> {
  const read = readYaml(text, file);
  await opts.registry.load(actionNames(read.data));
  return checkConfig(read, file, opts);
}

/**
 * For a synchronous loadConfigFile later: imports the declarations of the actions the file names
 * (none when it cannot be read or parsed — loading it then throws the ConfigError that says why).
 */
export async function loadDeclarationsOf(file: string, registry: ActionRegistry): Promise<void> {
  let data: Record<string, unknown>;
  try {
    const abs = resolve(file);
    data = readYaml(readConfigText(abs), abs).data;
  } catch (err) {
    if (err instanceof ConfigError) return;
    throw err;
  }
  await registry.load(actionNames(data));
}

function readConfigText(abs: string): string {
  try {
    return readFileSync(abs, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'no such file; create one with `caretaker init` or pass -c PATH'
        : e.code === 'EISDIR'
          ? 'is a directory; expected a caretaker.yaml file'
          : `cannot be read (${e.code ?? e.message})`;
    throw new ConfigError([{ file: abs, line: 0, column: 0, path: '', message: why }]);
  }
}

interface ReadYaml {
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
  readonly data: Record<string, unknown>;
}

/** The YAML with positions, as data: a ConfigError for what is not a YAML map. */
function readYaml(text: string, file: string): ReadYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, strict: true });
  const issues: ConfigIssue[] = [];
  for (const e of doc.errors) {
    const at = yamlErrorAt(e, lineCounter);
    issues.push({ file, line: at.line, column: at.column, path: '', message: clip(at.message) });
  }
  for (const at of [...duplicateKeys(doc, lineCounter), ...reservedKeys(doc, lineCounter)])
    issues.push({ file, line: at.line, column: at.column, path: '', message: at.message });
  if (issues.length > 0) throw new ConfigError(issues);

  const converted = toData(doc, lineCounter);
  if (!converted.ok) {
    const at = converted.error;
    throw new ConfigError([{ file, line: at.line, column: at.column, path: '', message: at.message }]);
  }
  const data = converted.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError([
      {
        file,
        line: 1,
        column: 1,
        path: '',
        message: `expected a map with version: 1 and tasks:, got ${data === null ? 'an empty file' : Array.isArray(data) ? 'a list' : 'a single value'}`,
      },
    ]);
  }
  return { doc, lineCounter, data: data as Record<string, unknown> };
}

/**
 * Every action the tasks name: a task's `action:`, and any `action:` below it (a runbook's steps
 * and their undo), so that each one's schema is there when the task is checked.
 */
export function actionNames(data: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 64 || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const v of value) visit(v, depth + 1);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      if (k === 'action' && typeof v === 'string') names.add(v);
      else visit(v, depth + 1);
    }
  };
  visit(data.tasks, 0);
  return names;
}

function checkConfig({ doc, lineCounter, data }: ReadYaml, file: string, opts: LoadOptions): Config {
  const map = new SourceMap(doc, lineCounter);
  const toIssue = (m: PathMessage): ConfigIssue => {
    const pos = m.key !== undefined ? map.keyAt(m.path.slice(0, -1), m.key) : map.valueAt(m.path);
    return {
      file,
      line: pos.line,
      column: pos.column,
      path: clip(m.path.join('.')),
      message: clip(m.message),
    };
  };

  // jitless: a config is parsed once per load, and compiling zod's fast path for each object
  // schema (a generated function per shape) cost more than the one parse it speeds up.
  const parsed = configSchema.safeParse(data, { error: errorMap, reportInput: true, jitless: true });
  const messages: PathMessage[] = parsed.success ? [] : describeIssues(parsed.error.issues, configSchema);
  for (const path of nulPaths(data))
    messages.push({
      path,
      message: 'contains a NUL byte (\\0), which no command, argument, path or name can hold; remove it',
    });
  const checked = checkTasks(data, opts.registry);
  messages.push(...checked.problems, ...checkAlerting(data));
  messages.push(...checkTargets(data, checked.options, opts.registry, dirname(file)));
  messages.push(...checkStore(data, process.env));
  if (messages.length > 0 || !parsed.success) {
    const all = messages.map(toIssue);
    all.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ConfigError(dedupe(all));
  }
  return resolveConfig({
    raw: parsed.data,
    options: checked.options,
    file,
    dir: dirname(file),
    registry: opts.registry,
    host: opts.host,
  });
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.line}:${i.column}:${i.path}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `store:`, `store_env:` and `store_schema:` (a store URL is never echoed: it may hold a password). */
function checkStore(
  data: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { path: string[]; message: string }[] {
  const { store, store_env: storeEnv, store_schema: schema } = data;
  const out: { path: string[]; message: string }[] = [];
  if (
    typeof store === 'string' &&
    store !== 'sqlite' &&
    !store.startsWith('sqlite:') &&
    !isPostgresUrl(store)
  )
    out.push({
      path: ['store'],
      message: `expected sqlite, sqlite:PATH or postgres://…, got "${redactUrl(store)}"`,
    });
  if (storeEnv !== undefined && store !== undefined)
    out.push({ path: ['store_env'], message: 'give store or store_env, not both' });
  if (typeof storeEnv === 'string' && storeEnv !== '') {
    const url = env[storeEnv];
    if (url === undefined || url === '')
      out.push({ path: ['store_env'], message: `the environment variable ${storeEnv} is not set` });
    else if (!isPostgresUrl(url))
      out.push({
        path: ['store_env'],
        message: `${storeEnv} does not hold a postgres:// or postgresql:// URL`,
      });
  }
  const isPg = storeEnv !== undefined || (typeof store === 'string' && isPostgresUrl(store));
  if (schema !== undefined && !isPg)
    out.push({ path: ['store_schema'], message: 'store_schema applies only to a postgres:// store' });
  return out;
}
