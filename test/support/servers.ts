/**
 * The real PostgreSQL and Redis servers of this machine, one isolated place per test: a fresh
 * database per test on PostgreSQL (dropped afterwards), a random key prefix on Redis.
 *
 * A server that does not answer makes its tests skip with a printed notice — unless CI is set,
 * where an unreachable server is a failure (a green CI run must mean the tests ran).
 * `.ci/run` starts both servers when they are down (see notes/issue-7.md).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { onTestFinished } from 'vitest';

export const PG_URL = process.env.CARETAKER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.CARETAKER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/9';

async function probe(name: string, check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (err) {
    const why = `${name} is unreachable: ${(err as Error).message || String(err)}`;
    if (process.env.CI) throw new Error(`${why} (CI is set, so this fails instead of skipping)`);
    console.warn(`\n*** SKIPPING ${name} tests: ${why}. Start it with .ci/run (see notes/issue-7.md).\n`);
    return false;
  }
}

/** True when PostgreSQL answers; prints why and returns false when not (throws under CI). */
export function postgresAvailable(): Promise<boolean> {
  return probe(`PostgreSQL at ${PG_URL}`, async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.query('SELECT 1');
    } finally {
      await c.end().catch(() => {});
    }
  });
}

export function redisAvailable(): Promise<boolean> {
  return probe(`Redis at ${REDIS_URL}`, async () => {
    const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
    } finally {
      r.disconnect();
    }
  });
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
