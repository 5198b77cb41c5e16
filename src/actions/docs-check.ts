/**
 * `docs-check`: broken links in Markdown. Every relative link must resolve to a file or directory,
 * every `#anchor` to a heading (GitHub's slugs) or an HTML `id`/`name`, every image must exist;
 * web links are checked only with `external: true`, politely (concurrency, a pause per host) and
 * with good answers cached for `cache_for`. Each broken link is reported as `file:line: target — reason`.
 */
import { plural } from '../core/plural.js';
import { join, sep } from 'node:path';
import { glob } from 'tinyglobby';
import type { z } from 'zod';
import { formatDuration } from '../core/duration.js';
import { checkUrls } from './docs-check/external-links.js';
import { LinkCache } from './docs-check/link-cache.js';
import { defineAction, type ActionContext } from './types.js';
import { docsCheckDeclaration } from './docs-check/declaration.js';
import type { schema } from './docs-check/schema.js';

const MAX_LISTED = 500;
const ALWAYS_EXCLUDED = ['**/node_modules/**', '**/.git/**'];

type Options = z.output<typeof schema>;

export interface BrokenLink {
  readonly file: string;
  readonly line: number;
  readonly target: string;
  readonly reason: string;
}

interface WebLink {
  readonly file: string;
  readonly line: number;
  readonly target: string;
  readonly url: string;
}

const show = (b: BrokenLink) => `${b.file}:${b.line}: ${b.target} — ${b.reason}`;

async function checkExternal(
  ctx: ActionContext,
  o: Options,
  web: WebLink[],
  broken: BrokenLink[],
  warnings: string[],
): Promise<{ requested: number; cached: number }> {
  const urls = [...new Set(web.map((w) => w.url))];
  const cacheFor = o.cache_for ?? 7 * 86_400_000;
  const cache =
    cacheFor > 0 ? await LinkCache.open(join(ctx.taskStateDir, 'web-links.json'), cacheFor) : null;
  const now = ctx.clock.now();
  const toAsk = urls.filter((u) => !cache?.get(u, now));
  const outcomes = await checkUrls(toAsk, {
    timeoutMs: o.timeout ?? 10_000,
    concurrency: o.concurrency ?? 4,
    perHostIntervalMs: o.per_host_interval ?? 200,
    signal: ctx.signal,
  });
  const bad = new Map<string, string>();
  for (const r of outcomes) {
    if (r.ok)
      cache?.set(r.url, { status: r.status!, checkedAt: ctx.clock.now(), redirectedTo: r.redirectedTo });
    else {
      cache?.forget(r.url);
      if (r.rateLimited) warnings.push(`${r.url} was not checked: the server answered 429 (rate limited)`);
      else bad.set(r.url, r.reason ?? 'unreachable');
    }
  }
  for (const w of web) {
    const reason = bad.get(w.url);
    if (reason) broken.push({ file: w.file, line: w.line, target: w.target, reason });
  }
  await cache?.save(ctx.clock.now());
  return { requested: toAsk.length, cached: urls.length - toAsk.length };
}

export const docsCheckAction = defineAction({
  ...docsCheckDeclaration,
  async run(ctx, o) {
    const root = ctx.resolvePath(o.root ?? '.');
    const files = (
      await glob(o.paths ?? ['**/*.md'], {
        cwd: root,
        ignore: [...ALWAYS_EXCLUDED, ...(o.exclude ?? [])],
        onlyFiles: true,
      })
    ).sort();
    // markdown-it is loaded when docs are checked, not by every command that loads the config.
    const { anchorProblem, localLinkProblem, MarkdownCache } = await import('./docs-check/local-links.js');
    const { classifyTarget } = await import('./docs-check/markdown-links.js');
    const cache = new MarkdownCache();
    const broken: BrokenLink[] = [];
    const warnings: string[] = [];
    const web: WebLink[] = [];
    const skipped = { schemes: 0, web: 0 };
    let links = 0;
    let localLinks = 0;
    for (const [i, rel] of files.entries()) {
      ctx.signal.throwIfAborted();
      ctx.progress({ done: i, total: files.length, unit: 'files', label: rel });
      const abs = join(root, rel);
      const shown = rel.split(sep).join('/');
      const facts = await cache.facts(abs);
      if (!facts) {
        warnings.push(`${shown} could not be read`);
        continue;
      }
      for (const link of facts.links) {
        links++;
        const c = classifyTarget(link.target);
        const at = { file: shown, line: link.line, target: link.target };
        if (c.type === 'skipped') skipped.schemes++;
        else if (c.type === 'external') {
          if (o.external && !(o.skip ?? []).some((p) => c.url.startsWith(p))) web.push({ ...at, url: c.url });
          else skipped.web++;
        } else {
          localLinks++;
          const problem =
            c.type === 'anchor'
              ? await anchorProblem(cache, abs, c.fragment)
              : await localLinkProblem(cache, abs, root, c.path, c.fragment, link.kind);
          if (problem) broken.push({ ...at, reason: problem });
        }
      }
    }
    ctx.progress({ done: files.length, total: files.length, unit: 'files' });

    let webStats = { requested: 0, cached: 0 };
    const plan: string[] = [];
    if (ctx.dryRun) {
      plan.push(`read ${files.length} Markdown files and check ${localLinks} local links (reading only)`);
      if (web.length > 0)
        plan.push(
          `check ${new Set(web.map((w) => w.url)).size} web links (answers cached within cache_for reused)`,
        );
    } else if (web.length > 0) webStats = await checkExternal(ctx, o, web, broken, warnings);

    // Code-point order, not the locale's: the same list on every machine.
    broken.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
    for (const b of broken) ctx.output(`${show(b)}\n`);
    for (const w of warnings) ctx.output(`warning: ${w}\n`);
    const webPart = o.external
      ? `, ${new Set(web.map((w) => w.url)).size} web${webStats.cached ? `, ${webStats.cached} of them from the cache` : ''}`
      : '';
    const head = `${plural(files.length, 'file')}, ${plural(links, 'link')} (${localLinks} local${webPart})`;
    return {
      ok: broken.length === 0,
      summary:
        broken.length === 0
          ? `${head}: no broken links`
          : `${head}: ${broken.length} broken — ${show(broken[0]!)}${broken.length > 1 ? ` (and ${broken.length - 1} more)` : ''}`,
      changed: false,
      issuesFound: broken.length,
      warnings: warnings.length > 0 ? warnings : undefined,
      plan: ctx.dryRun ? plan : undefined,
      details: {
        root,
        files: files.length,
        links: {
          total: links,
          local: localLinks,
          web: web.length,
          webRequested: webStats.requested,
          webCached: webStats.cached,
          webNotChecked: skipped.web,
          otherSchemes: skipped.schemes,
        },
        broken: broken.slice(0, MAX_LISTED).map(show),
        brokenTotal: broken.length,
        externalTimeout: o.external ? formatDuration(o.timeout ?? 10_000) : undefined,
      },
      findings: broken.slice(0, MAX_LISTED).map((b) => ({
        severity: 'error' as const,
        file: join(root, b.file),
        line: b.line,
        title: 'broken link',
        message: `${b.target} — ${b.reason}`,
      })),
      samples: [
        { key: 'docs:files', value: files.length },
        { key: 'docs:links', value: links },
        { key: 'docs:broken_links', value: broken.length, better: 'lower' },
      ],
    };
  },
});
