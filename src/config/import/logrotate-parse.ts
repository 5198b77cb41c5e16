/**
 * Reads logrotate configuration as logrotate 3.x does: global directives (which apply to the
 * stanzas after them, including those of included files), `include` of files and directories
 * (sorted, skipping logrotate's taboo extensions), stanzas of one or more paths followed by a
 * `{ ... }` block, and scripts between prerotate/postrotate/firstaction/lastaction/preremove and
 * `endscript`. The file system is injected, so the parser itself reads only what it is given.
 */
import {
  applyDirective,
  cloneDirectives,
  emptyDirectives,
  type ConfigReader,
  type Directives,
  type ParseResult,
  type Stanza,
  type Where,
} from './logrotate-directives.js';

export type { ConfigReader, Directives, ParseResult, Stanza, Where } from './logrotate-directives.js';

/** logrotate's default taboo extensions: files in an included directory ending so are skipped. */
const TABOO = [
  ',v',
  '.cfsaved',
  '.disabled',
  '.dpkg-bak',
  '.dpkg-del',
  '.dpkg-dist',
  '.dpkg-new',
  '.dpkg-old',
  '.dpkg-tmp',
  '.rhn-cfg-tmp-*',
  '.rpmnew',
  '.rpmorig',
  '.rpmsave',
  '.swp',
  '.ucf-dist',
  '.ucf-new',
  '.ucf-old',
  '~',
  '.bak',
  '.old',
  '.orig',
  '.save',
];

/** Splits a line into words, honouring quotes, with `{` and `}` as words of their own. */
function words(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '{' || c === '}') {
      out.push(c);
      i++;
    } else if (c === '"' || c === "'") {
      const end = line.indexOf(c, i + 1);
      out.push(line.slice(i + 1, end < 0 ? line.length : end));
      i = end < 0 ? line.length : end + 1;
    } else {
      let j = i;
      while (j < line.length && !/[\s{}]/.test(line[j]!)) j++;
      out.push(line.slice(i, j));
      i = j;
    }
  }
  return out;
}

/**
 * Removes the indentation every non-empty line of a script shares. The text keeps its final
 * newline, as logrotate's does: nginx's `fi \` relies on the backslash being followed by one.
 */
function dedent(lines: string[]): string {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^\s*/.exec(l)![0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  const body = lines
    .map((l) => l.slice(Math.min(cut, /^\s*/.exec(l)![0].length)))
    .join('\n')
    .replace(/^\s*\n/, '')
    .trimEnd();
  return `${body}\n`;
}

export function parseLogrotate(entryFiles: readonly string[], reader: ConfigReader): ParseResult {
  const stanzas: Stanza[] = [];
  const warnings: string[] = [];
  const defaults = emptyDirectives();
  const seen = new Set<string>();

  const readFile = (file: string): void => {
    if (seen.has(file)) {
      warnings.push(`${file}: included twice; read once`);
      return;
    }
    seen.add(file);
    const odd = reader.notRegular?.(file);
    if (odd) {
      warnings.push(`${file}: ${odd}, not a regular file — skipped (as logrotate skips it)`);
      return;
    }
    const lines = reader.readText(file).split(/\r?\n/);
    let current: Directives = defaults;
    let stanza: Stanza | undefined;
    let pendingPaths: string[] | undefined;
    let pendingWhere: Where | undefined;
    let script: { name: string; lines: string[]; where: Where } | undefined;

    const warn = (line: number, text: string) => warnings.push(`${file}:${line}: ${text}`);

    lines.forEach((raw, index) => {
      const lineNo = index + 1;
      if (script) {
        if (/^\s*endscript\b/.test(raw)) {
          current.scripts[script.name] = dedent(script.lines);
          script = undefined;
        } else script.lines.push(raw);
        return;
      }
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const ws = words(trimmed);
      let k = 0;
      while (k < ws.length) {
        const w = ws[k]!;
        if (pendingPaths) {
          if (w === '{') {
            stanza = { paths: pendingPaths, where: pendingWhere!, directives: cloneDirectives(defaults) };
            current = stanza.directives;
            pendingPaths = undefined;
          } else pendingPaths.push(w);
          k++;
          continue;
        }
        if (w === '}') {
          if (stanza) {
            stanzas.push(stanza);
            stanza = undefined;
            current = defaults;
          } else warn(lineNo, 'unexpected } (no stanza open)');
          k++;
          continue;
        }
        if (!stanza && w === '{') {
          warn(lineNo, '{ without log paths — block ignored');
          k++;
          continue;
        }
        // Outside a stanza, a word that starts like a path opens one (as logrotate decides).
        if (!stanza && (w.startsWith('/') || w.startsWith('~'))) {
          pendingPaths = [w];
          pendingWhere = { file, line: lineNo };
          k++;
          continue;
        }
        // A directive takes the rest of the line.
        const args = ws.slice(k + 1).filter((a) => a !== '{' && a !== '}');
        const closes = ws.slice(k + 1).includes('}');
        applyDirective(
          w,
          args,
          { file, line: lineNo },
          current,
          !stanza,
          warn,
          (name) => {
            script = { name, lines: [], where: { file, line: lineNo } };
          },
          (target) => {
            if (stanza)
              warn(lineNo, 'include inside a log stanza is not allowed (as in logrotate) — ignored');
            else include(target, lineNo, warn);
          },
        );
        if (closes && stanza) {
          stanzas.push(stanza);
          stanza = undefined;
          current = defaults;
        }
        break;
      }
    });
    if (script) warn(script.where.line, `${script.name} without endscript — script ignored`);
    if (stanza) warn(stanza.where.line, 'stanza not closed with } — ignored');
    if (pendingPaths) warn(pendingWhere!.line, 'log paths without a { ... } block — ignored');
  };

  const include = (target: string, line: number, warn: (line: number, text: string) => void) => {
    let isDir: boolean;
    try {
      isDir = reader.isDirectory(target);
    } catch {
      warn(line, `include ${target}: not found — skipped`);
      return;
    }
    if (!isDir) {
      readFile(target);
      return;
    }
    const names = reader
      .list(target)
      .filter((n) => !n.startsWith('.'))
      .filter((n) => !TABOO.some((t) => (t.endsWith('*') ? n.includes(t.slice(0, -1)) : n.endsWith(t))))
      .sort();
    for (const n of names) {
      const p = `${target.replace(/\/+$/, '')}/${n}`;
      if (!reader.isDirectory(p)) readFile(p);
    }
  };

  for (const f of entryFiles) {
    if (reader.isDirectory(f)) include(f, 0, (line, text) => warnings.push(`${f}:${line}: ${text}`));
    else readFile(f);
  }
  return { stanzas, warnings };
}
