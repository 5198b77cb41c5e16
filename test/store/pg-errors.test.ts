/**
 * Which PostgreSQL failures are an unreachable server (spool and retry) and which are not (bad
 * SQL, a wrong password, missing rights: say so and stop). The real failures are in
 * test/engine/store-spool.test.ts and test/daemon/store-outage.test.ts; these are the shapes
 * node-postgres gives them, including those a test cannot easily provoke.
 */
import { describe, expect, it } from 'vitest';
import { asStoreError, unreachableCode } from '../../src/store/postgres/pg-errors.js';
import { StoreUnavailableError } from '../../src/store/store-unavailable-error.js';

const err = (code: string | undefined, message = 'x') => Object.assign(new Error(message), { code });

describe('pg-errors: unreachable or not', () => {
  it('counts socket errors, shutdown and connection-class SQLSTATEs as unreachable', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'])
      expect(unreachableCode(err(code))).toBe(code);
    for (const code of ['57P01', '57P02', '57P03', '53300', '08006', '08001', '08003'])
      expect(unreachableCode(err(code))).toBe(code);
  });

  it('counts the driver messages without a code (a terminated or timed-out connection)', () => {
    expect(unreachableCode(err(undefined, 'Connection terminated unexpectedly'))).toBe('connection lost');
    expect(unreachableCode(err(undefined, 'timeout exceeded when trying to connect'))).toBe(
      'connection lost',
    );
  });

  it('looks inside an AggregateError (localhost tried on ::1 and 127.0.0.1)', () => {
    const agg = Object.assign(new AggregateError([err('ECONNREFUSED'), err('ECONNREFUSED')], ''), {
      code: 'ECONNREFUSED',
    });
    expect(unreachableCode(agg)).toBe('ECONNREFUSED');
    expect(unreachableCode(new AggregateError([err('ECONNREFUSED')], ''))).toBe('ECONNREFUSED');
  });

  it('does not count bad SQL, a wrong password, missing rights or a protocol violation', () => {
    for (const code of ['42601', '42P01', '28P01', '28000', '42501', '3D000', '23505', '08P01'])
      expect(unreachableCode(err(code))).toBeNull();
    expect(unreachableCode(new Error('syntax error at or near "SELEC"'))).toBeNull();
    expect(unreachableCode(null)).toBeNull();
  });

  it('wraps only the unreachable ones, keeping the cause', () => {
    const refused = err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5\nsecond line');
    const wrapped = asStoreError(refused);
    expect(wrapped).toBeInstanceOf(StoreUnavailableError);
    expect(wrapped).toMatchObject({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5' });
    expect((wrapped as Error).cause).toBe(refused);
    const bad = err('42601');
    expect(asStoreError(bad)).toBe(bad);
  });
});
