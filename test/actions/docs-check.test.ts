import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docsCheckAction } from '../../src/actions/docs-check.js';
import { classifyTarget, readMarkdown } from '../../src/actions/docs-check/markdown-links.js';
import { ManualClock } from '../../src/engine/clock.js';
import { optionsError, runAction } from '../support/run-action.js';
import { tempDir } from '../support/tmp.js';

const broken = (r: { result: { details?: Record<string, unknown> } }) => r.result.details?.broken as string[];

/** A small docs tree with known good and known broken links, written line by line. */
function docsTree(dir: string): void {
  mkdirSync(join(dir, 'docs'));
  mkdirSync(join(dir, 'img'));
  mkdirSync(join(dir, 'node_modules', 'pkg'), { recursive: true });
  writeFileSync(join(dir, 'img', 'logo.png'), 'png');
  writeFileSync(join(dir, 'docs', 'my file.md'), '# Spaced\n');
  writeFileSync(join(dir, 'node_modules', 'pkg', 'README.md'), '[never read](nowhere.md)\n');
  writeFileSync(
    join(dir, 'README.md'),
    [
      '# Project Title', // 1
      '',
      'See [the guide](docs/guide.md) and [its install section](docs/guide.md#install-it).', // 3
      'A [missing file](docs/nope.md) here,', // 4
      'and a broken [anchor](docs/guide.md#no-such-heading).', // 5
      '[Same file](#project-title) and [bad same-file](#nowhere).', // 6
      '![logo](img/logo.png) and ![gone](img/gone.png)', // 7
      '[dir](docs/) [space](<docs/my file.md>) [encoded](docs/my%20file.md) [query](docs/guide.md?plain=1#usage)', // 8
      '[ref link][guide-ref] [mail](mailto:a@b.c) [web](https://example.invalid/x)', // 9
      '[absolute](/docs/guide.md) [abs broken](/docs/missing.md)', // 10
      '[html id](docs/guide.md#custom-anchor) [html name](docs/guide.md#legacy) [code](src/x.ts#L3)', // 11
      '',
      '```md', // 13
      '[in a code block](not-a-link.md)',
      '```',
      '',
      '[guide-ref]: docs/guide.md#usage-1', // 17
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'docs', 'guide.md'),
    [
      '---', // 1
      'title: Guide',
      '---',
      '# Guide', // 4
      '',
      '## Install it', // 6
      '',
      '## Usage', // 8
      '',
      '## Usage', // 10 -> usage-1
      '',
      '<div id="custom-anchor">', // 12
      '<img src="../img/missing.svg">', // 13
      '</div>',
      '',
      'Text with <a name="legacy"></a> an inline anchor.', // 16
      '',
      '| col | link |', // 18
      '| --- | ---- |',
      '| x | [bad](../nothere.md) |', // 20
      '',
      '[up](../README.md#project-title) [title?](#title)', // 22
      '',
    ].join('\n'),
  );
}

describe('docs-check on a local Markdown tree', () => {
  it('reports every broken link, anchor and image with file and line, and nothing else', async () => {
    const dir = tempDir();
    docsTree(dir);
    const r = await runAction(docsCheckAction, {}, { baseDir: dir });
    expect(broken(r)).toEqual([
      'README.md:4: docs/nope.md — file not found',
      'README.md:5: docs/guide.md#no-such-heading — no heading or anchor #no-such-heading',
      'README.md:6: #nowhere — no heading or anchor #nowhere',
      'README.md:7: img/gone.png — image not found',
      'README.md:10: /docs/missing.md — file not found',
      'README.md:11: src/x.ts#L3 — file not found',
      'docs/guide.md:13: ../img/missing.svg — image not found',
      'docs/guide.md:20: ../nothere.md — file not found',
      // the front matter's title is not a heading
      'docs/guide.md:22: #title — no heading or anchor #title',
    ]);
    expect(r.result.ok).toBe(false);
    expect(r.result.issuesFound).toBe(9);
    expect(r.result.details?.files).toBe(3); // node_modules is never read
    const links = r.result.details?.links as Record<string, number>;
    // 20 in README (the code block's is not a link), 4 in guide.md (incl. <img>), 0 in "my file.md"
    expect(links.total).toBe(24);
    expect(links.local).toBe(22);
    expect(links.otherSchemes).toBe(1); // mailto:
    expect(links.webNotChecked).toBe(1); // external is off
    expect(r.result.summary).toMatch(
      /^3 files, 24 links \(22 local\): 9 broken — README.md:4: docs\/nope.md/,
    );
    expect(r.output).toContain('docs/guide.md:20: ../nothere.md — file not found\n');
    expect(r.result.samples).toContainEqual({ key: 'docs:broken_links', value: 9, better: 'lower' });
  });

  it('passes a clean tree and honours paths and exclude', async () => {
    const dir = tempDir();
    docsTree(dir);
    const clean = await runAction(docsCheckAction, { paths: 'docs/my file.md' }, { baseDir: dir });
    expect(clean.result.ok).toBe(true);
    expect(clean.result.summary).toBe('1 file, 0 links (0 local): no broken links');
    const r = await runAction(docsCheckAction, { paths: ['**/*.md'], exclude: 'docs/**' }, { baseDir: dir });
    expect(r.result.details?.files).toBe(1);
    expect(broken(r).every((b) => b.startsWith('README.md:'))).toBe(true);
  });

  it('resolves /absolute links against root', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'site', 'docs'), { recursive: true });
    writeFileSync(join(dir, 'site', 'docs', 'a.md'), '# A\n[b](/docs/b.md#b)\n');
    writeFileSync(join(dir, 'site', 'docs', 'b.md'), '# B\n');
    const r = await runAction(docsCheckAction, { root: 'site' }, { baseDir: dir });
    expect(broken(r)).toEqual([]);
    expect(r.result.details?.files).toBe(2);
  });

  it('rejects bad options with a clear message', () => {
    expect(optionsError(docsCheckAction, { cache_for: 'a week' })).toMatch(/^cache_for: expected a duration/);
    expect(optionsError(docsCheckAction, { concurrency: 0 })).toMatch(/^concurrency:/);
    expect(optionsError(docsCheckAction, { externals: true })).toBeDefined(); // strict: typos are refused
  });
});

describe('docs-check Markdown reading', () => {
  it('gives GitHub slugs, duplicate suffixes and each link its own line', () => {
    const facts = readMarkdown(
      '# Hello, `World`!\n\n# Hello, World!\n\nOne [a](a.md) then\na soft break [b](b.md)  \nhard [c](c.md)\n\n> quote\n> [d](d.md)\n',
    );
    expect([...facts.anchors]).toEqual(['hello-world', 'hello-world-1']);
    expect(facts.links.map((l) => `${l.line}:${l.target}`)).toEqual([
      '5:a.md',
      '6:b.md',
      '7:c.md',
      '10:d.md',
    ]);
  });

  it('classifies targets', () => {
    expect(classifyTarget('https://x.org/a#b')).toEqual({ type: 'external', url: 'https://x.org/a#b' });
    expect(classifyTarget('//cdn.x.org/a')).toEqual({ type: 'external', url: 'https://cdn.x.org/a' });
    expect(classifyTarget('mailto:a@b')).toEqual({ type: 'skipped', scheme: 'mailto' });
    expect(classifyTarget('#Se%C3%A7%C3%A3o')).toEqual({ type: 'anchor', fragment: 'Seção' });
    expect(classifyTarget('a%20b.md?x=1#y')).toEqual({ type: 'local', path: 'a b.md', fragment: 'y' });
  });
});

/** A real HTTP server on loopback; counts requests per "METHOD path". */
interface Site {
  readonly base: string;
  readonly hits: Map<string, number>;
  readonly times: number[];
  readonly server: Server;
}

async function startSite(): Promise<Site> {
  const hits = new Map<string, number>();
  const times: number[] = [];
  const server = createServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    hits.set(key, (hits.get(key) ?? 0) + 1);
    times.push(performance.now());
    switch (req.url) {
      case '/ok':
      case '/paced/1':
      case '/paced/2':
      case '/paced/3':
        return void res.writeHead(200).end('fine');
      case '/missing':
        return void res.writeHead(404).end('no');
      case '/no-head':
        return void res.writeHead(req.method === 'HEAD' ? 405 : 200).end();
      case '/moved':
        return void res.writeHead(301, { location: '/ok' }).end();
      case '/slow':
        // Answers long after the action's timeout; closed by closeAllConnections() at the end.
        return void setTimeout(() => res.writeHead(200).end(), 5_000).unref();
      default:
        return void res.writeHead(500).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, hits, times, server };
}

describe('docs-check with external: true against a loopback server', () => {
  let site: Site;
  beforeAll(async () => {
    site = await startSite();
  });
  afterAll(async () => {
    site.server.closeAllConnections();
    await new Promise((r) => site.server.close(r));
  });

  const opts = { external: true, timeout: '400ms', per_host_interval: '0ms' };

  it('HEAD then GET, follows redirects, times out, and caches good answers for cache_for', async () => {
    const dir = tempDir();
    const b = site.base;
    writeFileSync(
      join(dir, 'links.md'),
      [
        `[ok](${b}/ok)`,
        `[missing](${b}/missing)`,
        `[no head](${b}/no-head)`,
        `[moved](${b}/moved) and [ok again](${b}/ok)`,
        `[slow](${b}/slow)`,
        '',
      ].join('\n'),
    );
    const clock = new ManualClock(Date.UTC(2026, 3, 1));
    site.hits.clear();
    const first = await runAction(docsCheckAction, opts, { baseDir: dir, clock });
    expect(broken(first)).toEqual([
      `links.md:2: ${b}/missing — HTTP 404`,
      `links.md:5: ${b}/slow — no answer within 400ms`,
    ]);
    expect(Object.fromEntries(site.hits)).toEqual({
      'HEAD /ok': 2, // once for the link (both links share one request), once at the redirect's end
      'HEAD /missing': 1,
      'HEAD /no-head': 1,
      'GET /no-head': 1,
      'HEAD /moved': 1,
      'HEAD /slow': 1,
    });
    const links = first.result.details?.links as Record<string, number>;
    expect(links.webRequested).toBe(5);
    const cacheFile = join(dir, '.caretaker', 'tasks', 'test-task', 'web-links.json');
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as {
      links: Record<string, { status: number }>;
    };
    expect(Object.keys(cached.links).sort()).toEqual([`${b}/moved`, `${b}/no-head`, `${b}/ok`]);
    expect(cached.links[`${b}/moved`]).toMatchObject({ status: 200, redirectedTo: `${b}/ok` });

    // Within cache_for: good answers come from the cache; broken ones are asked again.
    site.hits.clear();
    clock.advance(6 * 86_400_000);
    const second = await runAction(docsCheckAction, opts, { baseDir: dir, clock });
    expect(Object.fromEntries(site.hits)).toEqual({ 'HEAD /missing': 1, 'HEAD /slow': 1 });
    expect(second.result.details?.links).toMatchObject({ webRequested: 2, webCached: 3 });
    expect(second.result.issuesFound).toBe(2);

    // Past cache_for (7d from the first run), everything is asked again.
    site.hits.clear();
    clock.advance(86_400_000 + 1);
    await runAction(docsCheckAction, opts, { baseDir: dir, clock });
    expect(site.hits.get('HEAD /ok')).toBe(2);
    expect(site.hits.get('HEAD /no-head')).toBe(1);
  });

  it('waits per_host_interval between requests to one host', async () => {
    const dir = tempDir();
    const b = site.base;
    writeFileSync(join(dir, 'a.md'), `[1](${b}/paced/1) [2](${b}/paced/2) [3](${b}/paced/3)\n`);
    site.times.length = 0;
    const r = await runAction(
      docsCheckAction,
      { external: true, per_host_interval: '150ms', concurrency: 3, cache_for: '0s' },
      { baseDir: dir },
    );
    expect(r.result.ok).toBe(true);
    expect(site.times).toHaveLength(3);
    // Three workers at once would arrive together; the pacer spreads them 150ms apart.
    expect(site.times[2]! - site.times[0]!).toBeGreaterThanOrEqual(280);
  });

  it('a dry run lists the web links it would check and asks none', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.md'), `[x](${site.base}/ok)\n`);
    site.hits.clear();
    const r = await runAction(docsCheckAction, { external: true }, { baseDir: dir, dryRun: true });
    expect(site.hits.size).toBe(0);
    expect(r.result.plan).toEqual([
      'read 1 Markdown files and check 0 local links (reading only)',
      'check 1 web links (answers cached within cache_for reused)',
    ]);
  });
});
