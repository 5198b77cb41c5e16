/** Maps a key path in a parsed YAML document back to a line and column of the file. */
import {
  isMap,
  isScalar,
  isSeq,
  type Document,
  type LineCounter,
  type Node,
  type Pair,
  type YAMLError,
} from 'yaml';

export type KeyPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

function keyName(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return typeof k === 'string' || typeof k === 'number' ? String(k) : undefined;
}

export class SourceMap {
  /** Each map's pairs by key name, built on first look: one lookup per issue, not a scan. */
  private readonly index = new WeakMap<object, Map<string, Pair>>();

  private pairIn(map: { items: Pair[] }, key: string): Pair | undefined {
    let byName = this.index.get(map);
    if (!byName) {
      byName = new Map();
      for (const p of map.items) {
        const name = keyName(p);
        if (name !== undefined && !byName.has(name)) byName.set(name, p);
      }
      this.index.set(map, byName);
    }
    return byName.get(key);
  }

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  private pos(offset: number | undefined): Position {
    if (offset === undefined) return { line: 1, column: 1 };
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }

  /** The node at `path`, or the deepest ancestor that exists, with how deep it got. */
  private walk(path: KeyPath): { node: Node | null; pair: Pair | null; depth: number } {
    let node = this.doc.contents as Node | null;
    let pair: Pair | null = null;
    let depth = 0;
    for (const part of path) {
      if (isMap(node)) {
        const found = this.pairIn(node as { items: Pair[] }, String(part));
        if (!found) break;
        pair = found;
        node = (found.value as Node | null) ?? null;
        if (node === null) {
          depth++;
          break;
        }
      } else if (isSeq(node) && typeof part === 'number' && part < node.items.length) {
        pair = null;
        node = node.items[part] as Node;
      } else {
        break;
      }
      depth++;
    }
    return { node, pair, depth };
  }

  /** Where the value at `path` is (or where its nearest existing parent is). */
  valueAt(path: KeyPath): Position {
    const { node, pair, depth } = this.walk(path);
    if (depth === path.length && node?.range) return this.pos(node.range[0]);
    if (depth === path.length && pair && isScalar(pair.key)) return this.pos(pair.key.range?.[0]);
    return this.parentPosition(node, pair);
  }

  /** Where the key `key` of the map at `path` is written; used for unknown keys. */
  keyAt(path: KeyPath, key: string): Position {
    const { node, depth } = this.walk(path);
    if (depth === path.length && isMap(node)) {
      const pair = this.pairIn(node as { items: Pair[] }, key);
      if (pair && isScalar(pair.key)) return this.pos(pair.key.range?.[0]);
    }
    return this.valueAt(path);
  }

  private parentPosition(node: Node | null, pair: Pair | null): Position {
    if (pair && isScalar(pair.key)) return this.pos(pair.key.range?.[0]);
    return this.pos(node?.range?.[0]);
  }
}

/**
 * A YAML syntax error's line, column and one-line message. The parser only fills `linePos` when
 * it also pretty-prints the message, so the position is computed from the error's offset.
 */
export function yamlErrorAt(e: YAMLError, lines: LineCounter): Position & { message: string } {
  const p = e.linePos?.[0] ?? (e.pos?.[0] !== undefined ? lines.linePos(e.pos[0]) : undefined);
  return {
    line: p?.line ?? 1,
    column: p?.col ?? 1,
    message: `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
  };
}
