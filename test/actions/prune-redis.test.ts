/**
 * prune-redis against the real Redis server.
 *
 * Idle times: OBJECT IDLETIME has a 1-second resolution, so keys with really different idle times
 * would normally need real waiting. RESTORE … IDLETIME (Redis ≥ 5, what MIGRATE uses to carry a
 * key's access time to another server) creates a key whose idle time is already N seconds: one
 * DUMP of a template per type, then 100,000 RESTOREs with chosen idle times and TTLs — a real
 * server feature, no waiting, exact expectations.
 */
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { pruneRedisAction } from '../../src/actions/prune-redis.js';
import { UNLINK_IF_STILL_STALE } from '../../src/actions/datastore/redis-prune-script.js';
import { ManualClock } from '../../src/engine/clock.js';
import { optionsError, runAction } from '../support/run-action.js';
import { needRedis, testRedis } from '../support/services.js';
import { drive } from '../support/clock-driver.js';
import { tempDir } from '../support/tmp.js';

const noRedis = await needRedis();
const KEYS = 100_000;
const DAY_S = 86_400;

interface KeySpec {
  type: 'string' | 'hash' | 'list';
  idle: number; // seconds
  ttl: boolean;
}

/** Key i: 60% strings, 20% hashes, 20% lists; idle 0, 30 min, 2 h or 3 days; a third expire in a day. */
function spec(i: number): KeySpec {
  const t = i % 10;
  return {
    type: t < 6 ? 'string' : t < 8 ? 'hash' : 'list',
    idle: [0, 1_800, 7_200, 3 * DAY_S][i % 4]!,
    ttl: i % 3 === 0,
  };
}

async function populate(redis: Redis, prefix: string): Promise<void> {
  await redis.set(`${prefix}tpl:string`, 'x'.repeat(100));
  await redis.hset(`${prefix}tpl:hash`, { a: 'x'.repeat(50), b: 'y'.repeat(50) });
  await redis.rpush(`${prefix}tpl:list`, 'x'.repeat(50), 'y'.repeat(50));
  const payload = {
    string: (await redis.dumpBuffer(`${prefix}tpl:string`))!,
    hash: (await redis.dumpBuffer(`${prefix}tpl:hash`))!,
    list: (await redis.dumpBuffer(`${prefix}tpl:list`))!,
  };
  await redis.del(`${prefix}tpl:string`, `${prefix}tpl:hash`, `${prefix}tpl:list`);
  for (let start = 0; start < KEYS; start += 5_000) {
    const p = redis.pipeline();
    for (let i = start; i < Math.min(KEYS, start + 5_000); i++) {
      const s = spec(i);
      p.restore(`${prefix}k:${i}`, s.ttl ? DAY_S * 1000 : 0, payload[s.type], 'IDLETIME', s.idle);
    }
    await p.exec();
  }
  // Old keys outside the pattern: never touched.
  const p = redis.pipeline();
  for (let i = 0; i < 500; i++) p.restore(`${prefix}other:${i}`, 0, payload.string, 'IDLETIME', 3 * DAY_S);
  await p.exec();
}

async function existing(redis: Redis, prefix: string): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5_000);
    cursor = next;
    for (const k of batch) keys.add(k);
  } while (cursor !== '0');
  return keys;
}

describe('prune-redis options', () => {
  it('refuses a bare "*" with no other filter', () => {
    expect(optionsError(pruneRedisAction, { match: '*' })).toBe(
      'match: "*" alone would remove every key; narrow it with a prefix, idle_over, ttl_missing_only or type',
    );
    expect(optionsError(pruneRedisAction, { match: '*', idle_over: '30d' })).toBeUndefined();
    expect(optionsError(pruneRedisAction, { match: 'cache:*', type: 'hashes' })).toMatch(/^type: /);
  });
});

describe('prune-redis when Redis is down', () => {
  it('warns with the reason instead of failing, and hides the password', async () => {
    const { result } = await runAction(
      pruneRedisAction,
      { url: 'redis://:hunter2-secret@127.0.0.1:1/0', match: 'cache:*' },
      { baseDir: tempDir() },
    );
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0 is unreachable \(.*ECONNREFUSED.*\); nothing was pruned$/,
      ),
    ]);
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });
});

describe.skipIf(noRedis)('prune-redis on a real Redis with 100,000 keys', () => {
  it('dry-runs, then removes exactly the idle keys without expiry, by type and under max_keys', async () => {
    const { redis, prefix, url } = await testRedis();
    await populate(redis, prefix);
    const dir = tempDir();
    const match = `${prefix}k:*`;
    const fast = { url, rate_limit: 10_000_000, batch: 5_000 }; // pacing has its own test below
    const all = Array.from({ length: KEYS }, (_, i) => i);
    const stale = (i: number) => spec(i).idle >= 3_600 && !spec(i).ttl;

    const dry = await runAction(
      pruneRedisAction,
      { ...fast, match, idle_over: '1h', ttl_missing_only: true },
      { baseDir: dir, dryRun: true },
    );
    const expected = all.filter(stale).length;
    expect(dry.result.details).toMatchObject({ scanned: KEYS, matched: expected, capped: false });
    expect((dry.result.details as { estimatedBytes: number }).estimatedBytes).toBeGreaterThan(expected * 50);
    expect(dry.result.plan).toHaveLength(21);
    expect((await existing(redis, prefix)).size).toBe(KEYS + 500);

    // Only hashes and lists idle for over a day, whatever their expiry.
    const typed = await runAction(
      pruneRedisAction,
      { ...fast, match, idle_over: '1d', type: ['hash', 'list'] },
      { baseDir: dir },
    );
    const typedExpected = all.filter((i) => spec(i).idle >= DAY_S && spec(i).type !== 'string');
    const typedSet = new Set(typedExpected);
    expect(typed.result.details).toMatchObject({
      matched: typedExpected.length,
      removed: typedExpected.length,
    });
    let left = await existing(redis, prefix);
    expect(typedExpected.some((i) => left.has(`${prefix}k:${i}`))).toBe(false);
    expect(left.size).toBe(KEYS + 500 - typedExpected.length);

    // A capped run removes max_keys and says more remain.
    const capped = await runAction(
      pruneRedisAction,
      { ...fast, match, idle_over: '1h', ttl_missing_only: true, max_keys: 1_000 },
      { baseDir: dir },
    );
    expect(capped.result.details).toMatchObject({ removed: 1_000, capped: true });
    expect(capped.result.summary).toMatch(/max_keys 1,000 reached; more remain/);

    const full = await runAction(
      pruneRedisAction,
      { ...fast, match, idle_over: '1h', ttl_missing_only: true },
      { baseDir: dir },
    );
    expect(full.result.ok).toBe(true);
    left = await existing(redis, prefix);
    for (const i of all) {
      const want = !stale(i) && !typedSet.has(i);
      if (left.has(`${prefix}k:${i}`) !== want)
        throw new Error(`key ${i} (${JSON.stringify(spec(i))}) should ${want ? '' : 'not '}exist`);
    }
    for (let i = 0; i < 500; i++) expect(left.has(`${prefix}other:${i}`)).toBe(true);
    const removedNow = all.filter((i) => stale(i) && !typedSet.has(i)).length - 1_000;
    expect(full.result.details).toMatchObject({ removed: removedNow, capped: false });
    const d = full.result.details as { memoryBefore: number; memoryAfter: number; reclaimedBytes: number };
    expect(d.memoryBefore).toBeGreaterThan(0);
    expect(d.reclaimedBytes).toBeGreaterThan(removedNow * 50);
    expect(full.result.bytesFreed).toBe(d.reclaimedBytes);
  });
});

describe.skipIf(noRedis)('prune-redis deletion and pacing', () => {
  it('re-checks each key on the server and keeps one used since the walk saw it', async () => {
    const { redis, prefix } = await testRedis();
    await redis.set(`${prefix}tpl`, 'v');
    const payload = (await redis.dumpBuffer(`${prefix}tpl`))!;
    await redis.restore(`${prefix}old`, 0, payload, 'IDLETIME', 7_200);
    await redis.restore(`${prefix}used`, 0, payload, 'IDLETIME', 7_200);
    await redis.restore(`${prefix}expiring`, 0, payload, 'IDLETIME', 7_200);
    // Between the walk and the deletion the application reads one key and sets a TTL on another:
    await redis.get(`${prefix}used`);
    await redis.expire(`${prefix}expiring`, 60);
    const removed = await redis.eval(
      UNLINK_IF_STILL_STALE,
      3,
      `${prefix}old`,
      `${prefix}used`,
      `${prefix}expiring`,
      '3600',
      '1',
      'string',
    );
    expect(removed).toBe(1);
    expect(await redis.exists(`${prefix}old`, `${prefix}used`, `${prefix}expiring`)).toBe(2);
  });

  it('examines at most rate_limit keys per second of the run clock', async () => {
    const { redis, prefix, url } = await testRedis();
    const p = redis.pipeline();
    for (let i = 0; i < 3_000; i++) p.set(`${prefix}${i}`, 'v');
    await p.exec();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const run = runAction(
      pruneRedisAction,
      { url, match: `${prefix}*`, batch: 500, rate_limit: 1_000 },
      { baseDir: tempDir(), clock },
    );
    const start = clock.now();
    const { result } = (await drive(clock, run)).value;
    expect(result.details).toMatchObject({ removed: 3_000 });
    // 3,000 keys at 1,000 per second: the walk waited about 3 s of the run clock in all.
    expect(clock.now() - start).toBeGreaterThanOrEqual(2_500);
    expect(clock.now() - start).toBeLessThanOrEqual(3_000);
  });
});
