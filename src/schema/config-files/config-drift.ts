/**
 * Drift against a baseline, key by key. A file's data is flattened into key paths with their
 * values; secrets (by key name, or a URL with a password in it) are kept only as a salted hash,
 * so a baseline can tell that a secret changed without ever storing or printing it.
 */
import { createHash } from 'node:crypto';

/** Key names whose values are treated as secrets. Over-matching is the safe side. */
const SECRET_KEY =
  /pass(word|wd)?|secret|token|api.?key|private.?key|credential|auth(?!or)|session|cookie|signature|salt|dsn/i;
const URL_WITH_PASSWORD = /\/\/[^/\s:@]+:[^/\s@]+@/;
const SECRET_PREFIX = 'secret:';

export type FlatKeys = Record<string, string>;

export interface KeyChange {
  readonly path: string;
  /** Rendered value: JSON for plain values, "(secret)" for secrets. */
  readonly value?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface KeyDrift {
  readonly added: readonly KeyChange[];
  readonly removed: readonly KeyChange[];
  readonly changed: readonly KeyChange[];
}

export function isSecretKey(path: string): boolean {
  const last = path.split('.').pop() ?? '';
  return SECRET_KEY.test(last);
}

/** Key path → rendered leaf value (JSON), secrets as a salted hash. Empty maps and lists are leaves. */
export function flattenKeys(data: unknown, salt: string): FlatKeys {
  const out: FlatKeys = {};
  const visit = (value: unknown, path: string) => {
    if (Array.isArray(value) && value.length > 0) {
      value.forEach((v, i) => visit(v, path ? `${path}.${i}` : String(i)));
      return;
    }
    if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).length > 0
    ) {
      for (const [k, v] of Object.entries(value)) visit(v, path ? `${path}.${k}` : k);
      return;
    }
    const json = JSON.stringify(value ?? null);
    const secret = isSecretKey(path) || (typeof value === 'string' && URL_WITH_PASSWORD.test(value));
    out[path] = secret
      ? `${SECRET_PREFIX}${createHash('sha256').update(salt).update(json).digest('hex').slice(0, 32)}`
      : json;
  };
  visit(data, '');
  return out;
}

function show(rendered: string): string {
  if (rendered.startsWith(SECRET_PREFIX)) return '(secret)';
  return rendered.length > 80 ? `${rendered.slice(0, 77)}...` : rendered;
}

export function diffKeys(before: FlatKeys, after: FlatKeys): KeyDrift {
  const added: KeyChange[] = [];
  const removed: KeyChange[] = [];
  const changed: KeyChange[] = [];
  for (const [path, value] of Object.entries(after)) {
    if (!(path in before)) added.push({ path, value: show(value) });
    else if (before[path] !== value) {
      const secret = value.startsWith(SECRET_PREFIX) || before[path]!.startsWith(SECRET_PREFIX);
      changed.push(
        secret
          ? { path, from: '(secret)', to: '(secret, changed)' }
          : { path, from: show(before[path]!), to: show(value) },
      );
    }
  }
  for (const [path, value] of Object.entries(before))
    if (!(path in after)) removed.push({ path, value: show(value) });
  const byPath = (a: KeyChange, b: KeyChange) => a.path.localeCompare(b.path);
  return { added: added.sort(byPath), removed: removed.sort(byPath), changed: changed.sort(byPath) };
}

export function driftCount(d: KeyDrift): number {
  return d.added.length + d.removed.length + d.changed.length;
}

/** One line per change: `+ a.b = 1`, `- a.c (was "x")`, `~ a.d: 1 -> 2`. */
export function driftLines(d: KeyDrift): string[] {
  return [
    ...d.added.map((c) => `+ ${c.path} = ${c.value}`),
    ...d.removed.map((c) => `- ${c.path} (was ${c.value})`),
    ...d.changed.map((c) => `~ ${c.path}: ${c.from} -> ${c.to}`),
  ];
}
