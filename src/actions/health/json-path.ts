/**
 * Reads one value out of a JSON document: a dotted path (`stats.hit_rate`, `items[0].id`) or a
 * JSON Pointer (`/stats/hit_rate`).
 */
export interface Lookup {
  readonly found: boolean;
  readonly value: unknown;
}

export function parsePath(path: string): string[] {
  if (path.startsWith('/'))
    return path
      .slice(1)
      .split('/')
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const parts: string[] = [];
  for (const segment of path.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(segment);
    if (!m) {
      parts.push(segment);
      continue;
    }
    if (m[1]) parts.push(m[1]);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) parts.push(idx[1]!);
  }
  return parts;
}

export function lookup(doc: unknown, path: string): Lookup {
  let cur: unknown = doc;
  for (const key of parsePath(path)) {
    if (Array.isArray(cur) && /^\d+$/.test(key)) {
      if (Number(key) >= cur.length) return { found: false, value: undefined };
      cur = cur[Number(key)];
    } else if (typeof cur === 'object' && cur !== null && Object.hasOwn(cur, key)) {
      cur = (cur as Record<string, unknown>)[key];
    } else {
      return { found: false, value: undefined };
    }
  }
  return { found: true, value: cur };
}
