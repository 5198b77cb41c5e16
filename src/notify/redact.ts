/**
 * Secrets named in the configuration (`*_env` keys) must never reach a payload, a log line or the
 * history. Whatever text leaves caretaker through a channel or an error record passes here.
 */

/** Values of these environment variables, longest first (so a secret containing another wins). */
export function secretValues(envNames: Iterable<string>, env: NodeJS.ProcessEnv = process.env): string[] {
  const values = new Set<string>();
  for (const name of envNames) {
    const v = env[name];
    // Very short values ("1", "true") would redact half of every message and protect nothing.
    if (v !== undefined && v.length >= 4) values.add(v);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** Redacts every string inside a JSON-like value. */
export function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return redact(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, secrets)])) as T;
  }
  return value;
}
