/**
 * `prune-redis`: removes stale keys — by pattern, idle time, missing expiry and type — with SCAN
 * (never KEYS, which blocks the server for the whole keyspace), a paced walk, and batched UNLINK
 * (the memory of big values is freed in a background thread). An unreachable server is a warning,
 * not a failure: a cache that is down has nothing to prune.
 */
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import { redactUrl, scrubSecrets } from '../core/redact-url.js';
import { sleepOn } from './clock-sleep.js';
import { UNLINK_IF_STILL_STALE } from './datastore/redis-prune-script.js';
import { defineAction, type ActionContext, type ActionResult } from './types.js';
import { pruneRedisDeclaration } from './prune-redis/declaration.js';
import type { schema } from './prune-redis/schema.js';

const SAMPLE = 20;

type Options = z.output<typeof schema>;

const fmt = (n: number) => n.toLocaleString('en-US');

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

interface Walk {
  scanned: number;
  matched: number;
  removed: number;
  estimatedBytes: number;
  sample: string[];
  capped: boolean;
}

export const pruneRedisAction = defineAction({
  ...pruneRedisDeclaration,
  async run(ctx, o) {
    const url = o.url ?? (o.url_env !== undefined ? process.env[o.url_env] : 'redis://127.0.0.1:6379');
    if (url === undefined || url === '') {
      return { ok: false, summary: `environment variable ${o.url_env} (url_env) is not set`, changed: false };
    }
    const shown = redactUrl(url);
    // ioredis is loaded when a prune runs, not by every command that loads the config.
    const { Redis: RedisClient } = await import('ioredis');
    const redis = new RedisClient(url, {
      lazyConnect: true,
      connectTimeout: o.connect_timeout ?? 5_000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => null, // one attempt: a scheduled task retries on its own schedule
      connectionName: 'caretaker',
    });
    let lastError: Error | undefined;
    redis.on('error', (err: Error) => (lastError = err));
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      const e = (lastError ?? err) as Error & { code?: string };
      const why = scrubSecrets(
        e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message,
        url,
      );
      const message = `Redis at ${shown} is unreachable (${why}); nothing was pruned`;
      return { ok: true, summary: message, changed: false, warnings: [message] };
    }
    const onAbort = () => redis.disconnect();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await prune(ctx, o, redis, shown);
    } catch (err) {
      const why = scrubSecrets((err as Error).message, url);
      return { ok: false, summary: `${shown}: ${ctx.signal.aborted ? 'stopped' : why}`, changed: false };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      redis.disconnect();
    }
  },
});

async function prune(ctx: ActionContext, o: Options, redis: Redis, shown: string): Promise<ActionResult> {
  const batch = o.batch ?? 500;
  const maxKeys = o.max_keys ?? 100_000;
  const rate = o.rate_limit ?? 20_000;
  const idleSeconds = o.idle_over === undefined ? -1 : Math.ceil(o.idle_over / 1000);
  const types = o.type ?? [];
  const memoryBefore = await usedMemory(redis);
  const walk: Walk = { scanned: 0, matched: 0, removed: 0, estimatedBytes: 0, sample: [], capped: false };
  const seen = new Set<string>(); // a key SCAN returns twice (or two patterns match) counts once
  const started = ctx.clock.now();
  const startedPerf = performance.now();

  for (const pattern of o.match) {
    let cursor = '0';
    do {
      if (ctx.signal.aborted) throw new Error('stopped');
      const args: (string | number)[] = [cursor, 'MATCH', pattern, 'COUNT', batch];
      if (types.length === 1) args.push('TYPE', types[0]!); // the server filters: fewer round trips
      const [next, keys] = (await redis.call('SCAN', ...args)) as [string, string[]];
      cursor = next;
      walk.scanned += keys.length;
      const fresh = keys.filter((k) => !seen.has(k));
      const candidates = await qualifying(redis, fresh, {
        idleSeconds,
        noTtl: o.ttl_missing_only === true,
        types,
      });
      const room = maxKeys - walk.matched;
      const take = candidates.slice(0, room);
      if (candidates.length > room) walk.capped = true;
      for (const k of take) seen.add(k);
      walk.matched += take.length;
      if (walk.sample.length < SAMPLE) walk.sample.push(...take.slice(0, SAMPLE - walk.sample.length));
      if (take.length > 0) {
        if (ctx.dryRun) walk.estimatedBytes += await memoryUsage(redis, take);
        else {
          const n = (await redis.eval(
            UNLINK_IF_STILL_STALE,
            take.length,
            ...take,
            String(idleSeconds),
            o.ttl_missing_only === true ? '1' : '0',
            types.join(','),
          )) as number;
          walk.removed += n;
        }
      }
      ctx.progress({ done: walk.scanned, unit: 'keys', label: pattern });
      if (walk.matched >= maxKeys) {
        walk.capped ||= cursor !== '0' || o.match.indexOf(pattern) < o.match.length - 1;
        break;
      }
      // Pacing: never examine more than `rate` keys per second of the run.
      const ahead = (walk.scanned / rate) * 1000 - (ctx.clock.now() - started);
      if (ahead > 0) await sleepOn(ctx.clock, ahead, ctx.signal);
    } while (cursor !== '0');
    if (walk.matched >= maxKeys) break;
  }
  return report(ctx, o, redis, shown, walk, memoryBefore, performance.now() - startedPerf);
}

/** The keys of a SCAN page that pass every filter, checked in one pipeline. */
async function qualifying(
  redis: Redis,
  keys: readonly string[],
  f: { idleSeconds: number; noTtl: boolean; types: readonly string[] },
): Promise<string[]> {
  const checks = (f.types.length > 1 ? 1 : 0) + (f.idleSeconds >= 0 ? 1 : 0) + (f.noTtl ? 1 : 0);
  if (keys.length === 0 || checks === 0) return [...keys];
  const p = redis.pipeline();
  for (const k of keys) {
    if (f.types.length > 1) p.type(k);
    if (f.idleSeconds >= 0) p.object('IDLETIME', k);
    if (f.noTtl) p.pttl(k);
  }
  const replies = (await p.exec()) ?? [];
  const out: string[] = [];
  keys.forEach((k, i) => {
    const r = replies.slice(i * checks, (i + 1) * checks);
    for (const [err] of r) if (err) throw err; // e.g. OBJECT IDLETIME under an LFU eviction policy
    let j = 0;
    if (f.types.length > 1 && !f.types.includes(r[j++]![1] as string)) return;
    if (f.idleSeconds >= 0) {
      const idle = r[j++]![1] as number | null;
      if (idle === null || idle < f.idleSeconds) return;
    }
    if (f.noTtl && (r[j]![1] as number) !== -1) return;
    out.push(k);
  });
  return out;
}

/** MEMORY USAGE of each key (dry run only: it costs a command per key). */
async function memoryUsage(redis: Redis, keys: readonly string[]): Promise<number> {
  const p = redis.pipeline();
  for (const k of keys) p.memory('USAGE', k);
  const replies = (await p.exec()) ?? [];
  return replies.reduce((s, [err, v]) => s + (err ? 0 : Number(v ?? 0)), 0);
}

async function report(
  ctx: ActionContext,
  o: Options,
  redis: Redis,
  shown: string,
  w: Walk,
  memoryBefore: number,
  ms: number,
): Promise<ActionResult> {
  const took = formatDuration(ms);
  const capped = w.capped ? ` (max_keys ${fmt(o.max_keys ?? 100_000)} reached; more remain)` : '';
  if (ctx.dryRun) {
    return {
      ok: true,
      summary: `would remove ${fmt(w.matched)} keys of ${fmt(w.scanned)} scanned from ${shown} (about ${formatSize(w.estimatedBytes)} by MEMORY USAGE)${capped}`,
      changed: false,
      plan: [
        ...w.sample.map((k) => `UNLINK ${k}`),
        ...(w.matched > w.sample.length ? [`… and ${fmt(w.matched - w.sample.length)} more keys`] : []),
      ],
      details: {
        scanned: w.scanned,
        matched: w.matched,
        estimatedBytes: w.estimatedBytes,
        capped: w.capped,
        sample: w.sample,
      },
    };
  }
  const memoryAfter = await usedMemory(redis);
  // used_memory is server-wide: other clients' writes move it too, so this is an estimate, never < 0.
  const reclaimed = Math.max(0, memoryBefore - memoryAfter);
  const raced = w.matched - w.removed;
  return {
    ok: true,
    summary: `removed ${fmt(w.removed)} keys of ${fmt(w.scanned)} scanned from ${shown} in ${took}; ${formatSize(reclaimed)} reclaimed${capped}`,
    changed: w.removed > 0,
    bytesFreed: reclaimed,
    details: {
      scanned: w.scanned,
      matched: w.matched,
      removed: w.removed,
      // Matched by the walk but no longer stale when their batch was deleted (used or given a TTL meanwhile).
      keptBecauseChanged: raced,
      capped: w.capped,
      memoryBefore,
      memoryAfter,
      reclaimedBytes: reclaimed,
      sample: w.sample,
    },
  };
}
