/**
 * Checks a link to a file in the repository: the path exists (a directory is fine, as on
 * GitHub), and a `#fragment` into a Markdown file names one of its headings or HTML anchors.
 * Markdown files are read once and their anchors kept for every link that points at them.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { readMarkdown, type MarkdownFacts } from './markdown-links.js';

const MARKDOWN = new Set(['.md', '.markdown', '.mdown', '.mkd']);

export function isMarkdown(path: string): boolean {
  return MARKDOWN.has(extname(path).toLowerCase());
}

/** Reads Markdown files once per run. */
export class MarkdownCache {
  readonly #facts = new Map<string, Promise<MarkdownFacts | null>>();

  facts(file: string): Promise<MarkdownFacts | null> {
    let p = this.#facts.get(file);
    if (!p) {
      p = readFile(file, 'utf8').then(
        (text) => readMarkdown(text),
        () => null,
      );
      this.#facts.set(file, p);
    }
    return p;
  }
}

async function kindOf(path: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

/** Why an anchor does not resolve in `file`, or null when it does. */
export async function anchorProblem(
  cache: MarkdownCache,
  file: string,
  fragment: string,
): Promise<string | null> {
  // `#` alone and GitHub's line anchors (#L10, #L10-L20) on rendered Markdown are not headings.
  if (fragment === '' || fragment === 'top') return null;
  const facts = await cache.facts(file);
  if (!facts) return 'the file cannot be read';
  return facts.anchors.has(fragment) ? null : `no heading or anchor #${fragment}`;
}

/**
 * Why a local link from `fromFile` is broken, or null when it resolves. `path` starting with `/`
 * is taken from `root` (the repository root), as GitHub does.
 */
export async function localLinkProblem(
  cache: MarkdownCache,
  fromFile: string,
  root: string,
  path: string,
  fragment: string | null,
  kind: 'link' | 'image',
): Promise<string | null> {
  const target = path.startsWith('/') ? join(root, path) : resolve(dirname(fromFile), path);
  const found = await kindOf(target);
  if (!found) return kind === 'image' ? 'image not found' : 'file not found';
  if (kind === 'image' && found === 'dir') return 'image path is a directory';
  if (fragment === null || kind === 'image') return null;
  if (found === 'dir') {
    // GitHub renders a directory's README.md; an anchor into the directory means into that.
    const readme = join(target, 'README.md');
    return (await kindOf(readme)) === 'file' ? anchorProblem(cache, readme, fragment) : null;
  }
  // Anchors into code (#L10) or other files are not checked: only Markdown has headings.
  return isMarkdown(target) ? anchorProblem(cache, target, fragment) : null;
}
