/**
 * What the YAML parser lets through but a configuration must not hold, found with positions:
 * aliases that cannot be resolved (or too many of them, the "billion laughs"), `__proto__` keys
 * (a plain JavaScript object swallows them: a task so named vanished), NUL bytes (no command line,
 * argument or path can hold one; they failed only at run time). And long values cut short in
 * messages, so that one bad 100,000-character value does not flood the terminal.
 */
import { isAlias, isMap, isScalar, visit, type Document, type LineCounter, type Node } from 'yaml';
import type { KeyPath, Position } from './source-map.js';

export interface PositionedMessage extends Position {
  readonly message: string;
}

const MAX_ALIASES = 1000;

/** The document as plain data, or the alias problem at the alias that caused it. */
export function toData(
  doc: Document,
  lines: LineCounter,
): { ok: true; data: unknown } | { ok: false; error: PositionedMessage } {
  try {
    return { ok: true, data: doc.toJS({ maxAliasCount: MAX_ALIASES }) };
  } catch (err) {
    if (!(err instanceof Error) || !/alias/i.test(err.message)) throw err;
    // "Unresolved alias (the anchor must be set before the alias): nope" names the alias.
    const name = /:\s*(\S+)$/.exec(err.message)?.[1];
    let at: Node | undefined;
    const anchors = new Set<string>();
    visit(doc, {
      Node(_, node) {
        if (at) return visit.BREAK;
        if (isAlias(node)) {
          if (name === undefined ? true : node.source === name && !anchors.has(name)) at = node;
        } else if (node.anchor) anchors.add(node.anchor);
        return undefined;
      },
    });
    const p = at?.range ? lines.linePos(at.range[0]) : { line: 1, col: 1 };
    const message = /excessive alias count/i.test(err.message)
      ? `invalid YAML: more than ${MAX_ALIASES} aliases are expanded (each * copies an anchored value); write the values out or use fewer aliases`
      : `invalid YAML: ${err.message.replace(/\s+/g, ' ')}`;
    return { ok: false, error: { line: p.line, column: p.col, message: clip(message) } };
  }
}

/**
 * Keys written twice in one map, as the parser's `uniqueKeys` reports them — but in linear time:
 * the parser compares each key with every key before it, which took most of a minute to
 * validate 50,000 tasks. Parse with `uniqueKeys: false` and call this instead.
 */
export function duplicateKeys(doc: Document, lines: LineCounter): PositionedMessage[] {
  const out: PositionedMessage[] = [];
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const k = pair.key;
        const value = isScalar(k) ? k.value : k;
        if (!seen.has(value)) {
          seen.add(value);
          continue;
        }
        const p = isScalar(k) && k.range ? lines.linePos(k.range[0]) : { line: 1, col: 1 };
        out.push({ line: p.line, column: p.col, message: 'invalid YAML: Map keys must be unique' });
      }
    },
  });
  return out;
}

/** Every `__proto__` key in the document: JavaScript objects would take it as their prototype. */
export function reservedKeys(doc: Document, lines: LineCounter): PositionedMessage[] {
  const out: PositionedMessage[] = [];
  visit(doc, {
    Pair(_, pair) {
      const k = pair.key;
      const name = isScalar(k) ? k.value : k;
      if (name !== '__proto__') return;
      const p = isScalar(k) && k.range ? lines.linePos(k.range[0]) : { line: 1, col: 1 };
      out.push({
        line: p.line,
        column: p.col,
        message: 'the key "__proto__" is not allowed (JavaScript reserves it; it would be lost); rename it',
      });
    },
  });
  return out;
}

/** Paths of the strings (values or keys) that contain a NUL byte. */
export function nulPaths(data: unknown, path: KeyPath = [], out: KeyPath[] = []): KeyPath[] {
  if (typeof data === 'string') {
    if (data.includes('\0')) out.push(path);
  } else if (Array.isArray(data)) {
    data.forEach((v, i) => nulPaths(v, [...path, i], out));
  } else if (typeof data === 'object' && data !== null) {
    for (const [k, v] of Object.entries(data)) {
      if (k.includes('\0')) out.push([...path, k]);
      else nulPaths(v, [...path, k], out);
    }
  }
  return out;
}

/**
 * A message with every value in it cut to about `max` characters, ending in "…": quoted values,
 * then any other run without a blank; the whole message is capped too.
 */
export function clip(message: string, max = 80): string {
  const quoted = message.replace(
    new RegExp(`"([^"]{${max + 1},}?)"(?=[\\s,;:.)]|$)`, 'g'),
    (_m, v: string) => `"${v.slice(0, max - 1)}…"`,
  );
  // A quoted value already cut, with its closing quote and a comma, is left alone.
  const runs = quoted.replace(new RegExp(`\\S{${max + 8},}`, 'g'), (run) => `${run.slice(0, max - 1)}…`);
  return runs.length > 1000 ? `${runs.slice(0, 999)}…` : runs;
}
