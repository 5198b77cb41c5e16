/**
 * Remembers web links that answered, so a nightly run does not ask the same sites again within
 * `cache_for`. Only good answers are kept: a broken or timed-out link is asked again next run, so
 * a site that comes back (or a link that is fixed) is not reported from a stale cache.
 * Kept as JSON in the task's state dir, replaced atomically; timestamps come from ctx.clock.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../os/atomic-write.js';

export interface CachedLink {
  readonly status: number;
  readonly checkedAt: number;
  readonly redirectedTo?: string;
}

interface CacheFile {
  readonly version: 1;
  readonly links: Record<string, CachedLink>;
}

export class LinkCache {
  #links: Record<string, CachedLink> = {};

  private constructor(
    readonly file: string,
    readonly maxAgeMs: number,
  ) {}

  /** A missing or unreadable cache file is an empty cache (it is only an optimisation). */
  static async open(file: string, maxAgeMs: number): Promise<LinkCache> {
    const cache = new LinkCache(file, maxAgeMs);
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
      if (parsed.version === 1 && parsed.links && typeof parsed.links === 'object')
        cache.#links = parsed.links;
    } catch {
      // first run, or a damaged file: start afresh
    }
    return cache;
  }

  /** A fresh good answer for `url` at `now`, if any. */
  get(url: string, now: number): CachedLink | undefined {
    const hit = this.#links[url];
    return hit && now - hit.checkedAt < this.maxAgeMs && now >= hit.checkedAt ? hit : undefined;
  }

  set(url: string, entry: CachedLink): void {
    this.#links[url] = entry;
  }

  forget(url: string): void {
    delete this.#links[url];
  }

  /** Drops expired entries and writes the file. */
  async save(now: number): Promise<void> {
    const links: Record<string, CachedLink> = {};
    for (const [url, e] of Object.entries(this.#links)) if (now - e.checkedAt < this.maxAgeMs) links[url] = e;
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(
      this.file,
      `${JSON.stringify({ version: 1, links } satisfies CacheFile, null, 1)}\n`,
    );
  }
}
