/**
 * The `backup` action's options and how they resolve: roots from paths and globs, the exclude
 * matcher, PostgreSQL sources (from a URL or an environment variable), the compression ratio of
 * recent runs (for the free-space estimate).
 */
import picomatch from 'picomatch';
import { isAbsolute, resolve } from 'node:path';
import type { ActionContext } from '../types.js';
import { pgSource, PgToolError, type PgSource } from '../../backup/postgres.js';
import type { BackupOptions } from './schema.js';

export { backupSchema, type BackupOptions } from './schema.js';

/** PostgreSQL sources; throws a one-line error naming the missing variable, never the URL. */
export function postgresSources(o: BackupOptions, env = process.env): PgSource[] {
  return (o.postgres ?? []).map((p, i) => {
    if (typeof p === 'string') return pgSource(p);
    const value = env[p.url_env];
    if (!value) throw new PgToolError(`postgres[${i}]: environment variable ${p.url_env} is not set`);
    try {
      return pgSource(value);
    } catch (err) {
      throw new PgToolError(`postgres[${i}]: ${p.url_env} ${(err as Error).message}`);
    }
  });
}

/**
 * Exclude patterns: without a slash they match a name at any depth; with one they are paths
 * (relative to the config file) matched against the absolute path.
 */
export function excludeMatcher(patterns: readonly string[], baseDir: string): (abs: string) => boolean {
  if (patterns.length === 0) return () => false;
  const byName = patterns.filter((p) => !p.includes('/'));
  const byPath = patterns
    .filter((p) => p.includes('/'))
    .map((p) => (isAbsolute(p) ? p : resolve(baseDir, p)));
  const nameMatch = byName.length > 0 ? picomatch(byName, { dot: true, basename: true }) : () => false;
  const pathMatch = byPath.length > 0 ? picomatch(byPath, { dot: true }) : () => false;
  return (abs) => nameMatch(abs) || pathMatch(abs);
}

/** archive bytes / input bytes of the most recent successful backup of this task. */
export async function recentRatio(ctx: ActionContext): Promise<number | undefined> {
  for (const run of await ctx.history.recent(10)) {
    const d = run.result?.details;
    if (!run.result?.ok || !d) continue;
    const bytesIn = Number(d.bytesIn);
    const bytesOut = Number(d.bytesOut);
    if (bytesIn > 0 && bytesOut > 0) return bytesOut / bytesIn;
  }
  return undefined;
}
