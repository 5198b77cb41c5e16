/**
 * What a Markdown file links to and which anchors it offers, read with a real Markdown parser
 * (markdown-it): links and images with their line, headings as GitHub slugs (duplicates get -1,
 * -2 as on GitHub), and `id`/`name` anchors from raw HTML. Pure: text in, lists out.
 */
import GithubSlugger from 'github-slugger';
import MarkdownIt, { type Token } from 'markdown-it';

export interface MarkdownLink {
  /** The target as written (markdown-it percent-encodes unsafe characters, e.g. spaces). */
  readonly target: string;
  /** 1-based line of the link in the file. */
  readonly line: number;
  readonly kind: 'link' | 'image';
}

export interface MarkdownFacts {
  readonly links: MarkdownLink[];
  /** Every anchor a `#fragment` may point at: heading slugs and HTML ids/names. */
  readonly anchors: Set<string>;
}

// html: true so that raw HTML reaches us as html_block/html_inline tokens (anchors, <a href>).
const md = new MarkdownIt({ html: true, linkify: false });

// A tag's attributes are not Markdown: markdown-it hands raw HTML over as text, so its few
// attributes are read here. Links in Markdown itself come from the parser's tokens.
const HTML_ATTR = /\s(id|name|href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/gi;

/** Blank YAML front matter out (keeping its lines), or markdown-it reads it as a setext heading. */
function withoutFrontMatter(text: string): string {
  if (!text.startsWith('---\n') && !text.startsWith('---\r\n')) return text;
  const end = text.search(/\r?\n(?:---|\.\.\.)\s*(?:\r?\n|$)/);
  if (end < 0) return text;
  const close = text.indexOf('\n', end + 1);
  const stop = close < 0 ? text.length : close;
  return text.slice(0, stop).replace(/[^\n]/g, '') + text.slice(stop);
}

function headingText(inline: Token): string {
  let out = '';
  for (const c of inline.children ?? []) {
    if (c.type === 'text' || c.type === 'code_inline') out += c.content;
    else if (c.type === 'image') out += c.content;
    else if (c.type === 'softbreak' || c.type === 'hardbreak') out += ' ';
  }
  return out;
}

function htmlFacts(html: string, line: number, links: MarkdownLink[], anchors: Set<string>): void {
  const lineStarts = [0];
  for (let i = 0; i < html.length; i++) if (html[i] === '\n') lineStarts.push(i + 1);
  for (const m of html.matchAll(HTML_ATTR)) {
    const attr = m[1]!.toLowerCase();
    const value = m[2] ?? m[3] ?? m[4] ?? '';
    if (attr === 'id' || attr === 'name') {
      if (value) anchors.add(value);
      continue;
    }
    const before = lineStarts.filter((s) => s <= m.index).length - 1;
    if (value) links.push({ target: value, line: line + before, kind: attr === 'src' ? 'image' : 'link' });
  }
}

/** Links, images and anchors of one Markdown document. */
export function readMarkdown(text: string): MarkdownFacts {
  const tokens = md.parse(withoutFrontMatter(text), {});
  const links: MarkdownLink[] = [];
  const anchors = new Set<string>();
  const slugger = new GithubSlugger();
  // Inline tokens inside table cells carry no map: they take the line of the row around them.
  let blockLine = 1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.map) blockLine = t.map[0] + 1;
    if (t.type === 'heading_open') {
      const inline = tokens[i + 1];
      if (inline?.type === 'inline') anchors.add(slugger.slug(headingText(inline)));
    } else if (t.type === 'html_block') {
      htmlFacts(t.content, blockLine, links, anchors);
    } else if (t.type === 'inline') {
      // The line of a link = the block's first line + the line breaks before it in the block.
      let line = blockLine;
      for (const c of t.children ?? []) {
        if (c.type === 'softbreak' || c.type === 'hardbreak') line++;
        else if (c.type === 'link_open') {
          const href = c.attrGet('href');
          if (href !== null) links.push({ target: String(href), line, kind: 'link' });
        } else if (c.type === 'image') {
          const src = c.attrGet('src');
          if (src !== null) links.push({ target: String(src), line, kind: 'image' });
        } else if (c.type === 'html_inline') htmlFacts(c.content, line, links, anchors);
      }
    }
  }
  return { links, anchors };
}

export type LinkClass =
  | { readonly type: 'external'; readonly url: string }
  | { readonly type: 'skipped'; readonly scheme: string }
  | { readonly type: 'anchor'; readonly fragment: string }
  | {
      readonly type: 'local';
      /** Decoded path; starts with `/` when it is relative to the repository root. */
      readonly path: string;
      readonly fragment: string | null;
    };

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** What kind of target a link has: web, another scheme (mailto:), this file's anchor, a local path. */
export function classifyTarget(target: string): LinkClass {
  const t = target.trim();
  if (t.startsWith('//')) return { type: 'external', url: `https:${t}` };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(t);
  if (scheme) {
    const s = scheme[1]!.toLowerCase();
    // A Windows drive letter (C:\docs) is a path, not a scheme.
    if (s.length > 1)
      return s === 'http' || s === 'https' ? { type: 'external', url: t } : { type: 'skipped', scheme: s };
  }
  const hash = t.indexOf('#');
  const fragment = hash >= 0 ? decode(t.slice(hash + 1)) : null;
  let path = hash >= 0 ? t.slice(0, hash) : t;
  const query = path.indexOf('?');
  if (query >= 0) path = path.slice(0, query);
  if (path === '') return { type: 'anchor', fragment: fragment ?? '' };
  return { type: 'local', path: decode(path), fragment };
}
