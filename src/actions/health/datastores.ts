/**
 * `postgres` and `redis`: connect and answer within the timeout (a query / PING), with the
 * round trip as the measured value. Addresses may come from the environment (`url_env`) so
 * passwords stay out of the file. The drivers are loaded on first use: every CLI command loads
 * the built-in actions, and most never talk to a database.
 */
import { z } from 'zod';
import { duration } from '../../schema/values.js';
import { formatDuration } from '../../core/duration.js';
import { defineCheck, type CheckOutcome } from './check-types.js';
import { common } from './common-options.js';
import { describeLimits, judgeAbove } from './thresholds.js';

const address = {
  url: z.string().min(1).optional().describe('postgres://… or redis://… (or url_env)'),
  url_env: z.string().optional().describe('Environment variable holding the URL (with its password).'),
  warn_latency: duration().optional().describe('@default 1s'),
  fail_latency: duration().optional(),
  ...common,
};

function urlOf(s: { url?: string; url_env?: string }): string | { error: string } {
  if (s.url_env) return process.env[s.url_env] ?? { error: `environment variable ${s.url_env} is not set` };
  if (s.url) return s.url;
  return { error: 'set url or url_env' };
}

/** host:port/db without the password. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return '(unparseable URL)';
  }
}

function judged(ms: number, s: { warn_latency?: number; fail_latency?: number }, what: string): CheckOutcome {
  const limits = { warn: s.warn_latency ?? 1_000, fail: s.fail_latency };
  return {
    status: judgeAbove(ms, limits),
    value: Math.round(ms),
    unit: 'ms',
    thresholds: describeLimits(limits, '≥', formatDuration),
    message: `${what} in ${formatDuration(ms)}`,
    samples: [{ metric: 'latency_ms', value: Math.round(ms), unit: 'ms', better: 'lower' }],
  };
}

export const postgresCheck = defineCheck({
  kind: 'postgres',
  schema: z.strictObject({ ...address, query: z.string().optional().describe('@default SELECT 1') }),
  defaultTimeoutMs: 10_000,
  nameOf: (s) => (s.url ? shown(s.url) : (s.url_env ?? 'postgres')),
  async run(s, ctx) {
    const url = urlOf(s);
    if (typeof url !== 'string') return { status: 'fail', value: null, message: url.error };
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000 });
    client.on('error', () => {}); // a dropped connection is reported through the awaited calls
    const onAbort = () => void client.end().catch(() => {});
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const started = performance.now();
    try {
      await client.connect();
      await client.query(s.query ?? 'SELECT 1');
      return judged(performance.now() - started, s, `answered ${s.query ?? 'SELECT 1'}`);
    } catch (err) {
      return {
        status: 'fail',
        value: null,
        message: `${shown(url)}: ${(err as Error).message.split('\n')[0]}`,
      };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await client.end().catch(() => {});
    }
  },
});

export const redisCheck = defineCheck({
  kind: 'redis',
  schema: z.strictObject(address),
  defaultTimeoutMs: 10_000,
  nameOf: (s) => (s.url ? shown(s.url) : (s.url_env ?? 'redis')),
  async run(s, ctx) {
    const url = urlOf(s);
    if (typeof url !== 'string') return { status: 'fail', value: null, message: url.error };
    // No retries, no offline queue: a health check wants the first answer, not a reconnect loop.
    const { Redis } = await import('ioredis');
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      connectTimeout: 30_000,
    });
    // ioredis reports the cause (ECONNREFUSED) as an event and rejects with "Connection is closed".
    let cause: Error | undefined;
    client.on('error', (e: Error) => (cause ??= e));
    const onAbort = () => client.disconnect();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const started = performance.now();
    try {
      await client.connect();
      const pong = await client.ping();
      if (pong !== 'PONG')
        return { status: 'fail', value: null, message: `${shown(url)} answered ${pong} to PING` };
      return judged(performance.now() - started, s, 'answered PING');
    } catch (err) {
      const e = cause ?? (err as Error);
      return { status: 'fail', value: null, message: `${shown(url)}: ${e.message.split('\n')[0]}` };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      client.disconnect();
    }
  },
});
