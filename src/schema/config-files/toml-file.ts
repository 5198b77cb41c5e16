/**
 * TOML (smol-toml, TOML 1.0): syntax errors with line and column. smol-toml keeps no positions of
 * keys, so a key path is found by reading the lines: its table header, then `key =` inside it.
 */
import { parse, TomlError } from 'smol-toml';
import type { DataPath, ParseOutcome, Position } from './parsed-file.js';
import { toPlain } from './yaml-file.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const unquote = (s: string) => s.trim().replace(/^"(.*)"$|^'(.*)'$/, '$1$2');

interface Section {
  readonly path: string;
  /** 0-based line of the header (-1 for the top of the file). */
  readonly header: number;
  readonly lines: readonly [number, string][];
}

function sectionsOf(lines: readonly string[]): Section[] {
  const out: { path: string; header: number; lines: [number, string][] }[] = [
    { path: '', header: -1, lines: [] },
  ];
  for (const [i, line] of lines.entries()) {
    const m = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/.exec(line);
    if (m) out.push({ path: m[1]!.split('.').map(unquote).join('.'), header: i, lines: [] });
    else out[out.length - 1]!.lines.push([i, line]);
  }
  return out;
}

/**
 * Best effort, as smol-toml keeps no positions: the line of `key =` (or a dotted `a.b =`) in the
 * table that holds it, else the table's header, else the nearest parent that can be found.
 */
function locator(lines: readonly string[]) {
  const sections = sectionsOf(lines);
  const at = (i: number): Position => ({ line: i + 1, column: Math.max(lines[i]!.search(/\S/), 0) + 1 });
  const find = (path: DataPath): Position | undefined => {
    const names = path.filter((p): p is string => typeof p === 'string');
    if (names.length === 0) return undefined;
    for (let cut = names.length - 1; cut >= 0; cut--) {
      const table = names.slice(0, cut).join('.');
      const key = new RegExp(
        `^\\s*${names
          .slice(cut)
          .map((k) => `(?:"${escape(k)}"|'${escape(k)}'|${escape(k)})`)
          .join('\\s*\\.\\s*')}\\s*=`,
      );
      for (const sec of sections) {
        if (sec.path !== table) continue;
        for (const [i, line] of sec.lines) if (key.test(line)) return at(i);
      }
    }
    const header = sections.find((s) => s.path === names.join('.'));
    return header ? at(header.header) : undefined;
  };
  return (path: DataPath): Position => {
    for (let n = path.length; n > 0; n--) {
      const p = find(path.slice(0, n));
      if (p) return p;
    }
    return { line: 1, column: 1 };
  };
}

export function parseToml(text: string): ParseOutcome {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const what = err.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
    return {
      ok: false,
      problems: [{ line: err.line, column: err.column, path: '', message: `invalid TOML: ${what}` }],
    };
  }
  const locate = locator(text.split('\n'));
  return {
    ok: true,
    file: { format: 'toml', data: toPlain(data), locate, locateKey: (path, key) => locate([...path, key]) },
  };
}
