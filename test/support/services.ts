/**
 * The machine's services for the tests (PostgreSQL, Redis): one probe each that answers
 * "usable" or the reason it is not. A service that is down is started first, the way .ci/run
 * starts it; only if it still does not answer does the caller skip — visibly (the reason is
 * printed) and never under CI, where it is a failure.
 *
 *   const noPostgres = await needPostgres();
 *   describe.skipIf(noPostgres)('…', () => { … });
 *
 * Each test then gets a place of its own: a fresh database on PostgreSQL (dropped afterwards),
 * a random key prefix on Redis (its keys deleted afterwards).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { onTestFinished } from 'vitest';
import { skipBecause } from './skip-reason.js';

export const PG_URL = process.env.CARETAKER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.CARETAKER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/9';

async function pingPostgres(): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('SELECT 1');
  } finally {
    await c.end().catch(() => {});
  }
}

async function pingRedis(): Promise<void> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
  } finally {
    r.disconnect();
  }
}

/** Runs a start command; its failure is part of the reason, not an exception. */
function tryStart(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return `${cmd} could not run (${r.error.message})`;
  if (r.status !== 0) return `\`${cmd} ${args.join(' ')}\` exited ${r.status}: ${r.stderr.trim()}`;
  return `started it with \`${cmd} ${args.join(' ')}\``;
}

async function settled(ping: () => Promise<void>, ms: number): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await ping();
      return undefined;
    } catch (err) {
      if (Date.now() > deadline) return (err as Error).message || String(err);
      await new Promise((r) => setTimeout(r, 250)); // a server starting up: real time, not a test timer
    }
  }
}

async function need(
  name: string,
  ping: () => Promise<void>,
  start: () => string,
): Promise<string | undefined> {
  const first = await settled(ping, 0);
  if (first === undefined) return undefined;
  const started = start();
  const after = await settled(ping, 10_000);
  if (after === undefined) {
    console.warn(`${name} was down (${first}); ${started}`);
    return undefined;
  }
  return skipBecause(`tests that need ${name}`, `unreachable: ${after}; ${started}`, {
    requiredUnderCi: true,
  });
}

const memo = new Map<string, Promise<string | undefined>>();

/** undefined when PostgreSQL answers at PG_URL (started when down), else the printed reason. */
export function needPostgres(): Promise<string | undefined> {
  let p = memo.get('pg');
  if (!p) {
    p = need(`PostgreSQL at ${PG_URL}`, pingPostgres, () => {
      let versions: string[] = [];
      try {
        versions = readdirSync('/etc/postgresql');
      } catch {
        return 'PostgreSQL is not installed here (no /etc/postgresql)';
      }
      return tryStart('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0] ?? '?', 'main', 'start']);
    });
    memo.set('pg', p);
  }
  return p;
}

/** undefined when Redis answers at REDIS_URL (started when down), else the printed reason. */
export function needRedis(): Promise<string | undefined> {
  let p = memo.get('redis');
  if (!p) {
    p = need(`Redis at ${REDIS_URL}`, pingRedis, () =>
      tryStart('redis-server', [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '--port',
        new URL(REDIS_URL).port || '6379',
        '--save',
        '',
        '--appendonly',
        'no',
      ]),
    );
    memo.set('redis', p);
  }
  return p;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A client on the test database (closed when the test ends). */
  readonly client: pg.Client;
}

/** A fresh database for this test, dropped when it ends. */
export async function testDatabase(): Promise<TestDatabase> {
  const name = `ct_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await admin.end();
  const url = withDatabase(PG_URL, name);
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  onTestFinished(async () => {
    await client.end().catch(() => {});
    const drop = new pg.Client({ connectionString: PG_URL });
    await drop.connect();
    // FORCE: a killed child's connection may not have been reaped yet.
    await drop.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await drop.end();
  });
  return { name, url, client };
}

export interface TestRedis {
  readonly url: string;
  /** `ct:<random>:` — every key this test makes starts with it. */
  readonly prefix: string;
  readonly redis: Redis;
}

/** A Redis client and a key prefix of its own; the prefix's keys are deleted when the test ends. */
export async function testRedis(): Promise<TestRedis> {
  const prefix = `ct:${randomBytes(6).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  onTestFinished(async () => {
    // Only this test's keys: SCAN its prefix, never FLUSHALL/FLUSHDB on a shared server.
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  });
  return { url: REDIS_URL, prefix, redis };
}
