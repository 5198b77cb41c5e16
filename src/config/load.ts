/**
 * Reads caretaker.yaml: YAML with positions, the schema, the cross-key checks, then resolution.
 * Every problem is collected and thrown together as one ConfigError.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
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
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
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
  return parseConfigText(text, abs, opts);
}

/** Parses config text as if it were the file `file` (relative paths resolve against its dir). */
export function parseConfigText(text: string, file: string, opts: LoadOptions): Config {
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

  const parsed = configSchema.safeParse(data, { error: errorMap, reportInput: true });
  const messages: PathMessage[] = parsed.success ? [] : describeIssues(parsed.error.issues, configSchema);
  for (const path of nulPaths(data))
    messages.push({
      path,
      message: 'contains a NUL byte (\\0), which no command, argument, path or name can hold; remove it',
    });
  const checked = checkTasks(data as Record<string, unknown>, opts.registry);
  messages.push(...checked.problems, ...checkAlerting(data as Record<string, unknown>));
  messages.push(
    ...checkTargets(data as Record<string, unknown>, checked.options, opts.registry, dirname(file)),
  );
  messages.push(...checkStore(data as Record<string, unknown>, process.env));
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
