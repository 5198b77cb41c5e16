/**
 * `required:` key paths such as `materials.*.density`: `*` stands for every key of a map or
 * every item of a list. A path is missing when a concrete expansion of it does not exist.
 */
import type { DataPath } from '../../schema/config-files/parsed-file.js';

export interface MissingKey {
  /** The concrete path that is missing, e.g. materials.copper.density. */
  readonly path: DataPath;
  /** The deepest part of it that exists (where to point the user). */
  readonly parent: DataPath;
  /** The pattern it came from. */
  readonly pattern: string;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function child(value: unknown, key: string): { found: boolean; value?: unknown; key: string | number } {
  if (Array.isArray(value) && /^\d+$/.test(key)) {
    const i = Number(key);
    return { found: i < value.length, value: value[i], key: i };
  }
  if (isMap(value) && Object.prototype.hasOwnProperty.call(value, key))
    return { found: true, value: value[key], key };
  return { found: false, key };
}

export function missingKeys(data: unknown, pattern: string): MissingKey[] {
  const parts = pattern.split('.').filter((p) => p.length > 0);
  const out: MissingKey[] = [];
  const walk = (value: unknown, at: (string | number)[], rest: readonly string[]) => {
    if (rest.length === 0) return;
    const [head, ...tail] = rest as [string, ...string[]];
    if (head === '*') {
      const entries: [string | number, unknown][] = Array.isArray(value)
        ? value.map((v, i) => [i, v])
        : isMap(value)
          ? Object.entries(value)
          : [];
      // A wildcard over nothing cannot prove anything: the collection itself is what is missing.
      if (entries.length === 0) out.push({ path: [...at, '*'], parent: at, pattern });
      for (const [k, v] of entries) walk(v, [...at, k], tail);
      return;
    }
    const c = child(value, head);
    if (!c.found) {
      out.push({ path: [...at, c.key, ...tail], parent: at, pattern });
      return;
    }
    walk(c.value, [...at, c.key], tail);
  };
  walk(data, [], parts);
  return out;
}
