/**
 * Which PostgreSQL failures mean "the server is not there right now" (retry, spool) rather than
 * "this is wrong" (bad SQL, wrong password, missing rights: tell and stop). Pure: an error in, a
 * verdict out.
 */
import { StoreUnavailableError } from '../store-unavailable-error.js';

/** Socket errors of a server that is down, restarting or out of reach. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENOENT', // a Unix socket path that is not there while the server is down
]);

/**
 * SQLSTATEs of a server going away or not taking connections yet: admin/crash shutdown
 * (57P01/57P02), starting up or shutting down (57P03), too many connections (53300, passes).
 * Class 08 is "connection exception" except 08P01 (a protocol violation: a bug, not an outage).
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** What node-postgres says when the socket goes without a code. */
const MESSAGES = [
  /^Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

/** The code that says why, when `err` is an unreachable-server failure; else null. */
export function unreachableCode(err: unknown): string | null {
  if (err instanceof StoreUnavailableError) return err.code;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown } | null;
  if (!e || typeof e !== 'object') return null;
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code)) return code;
  if (SQLSTATES.has(code)) return code;
  if (/^08/.test(code) && code !== '08P01') return code;
  // Several addresses tried (localhost: ::1 and 127.0.0.1): an AggregateError of socket errors.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = unreachableCode(inner);
      if (c) return c;
    }
  }
  const message = typeof e.message === 'string' ? e.message : '';
  if (MESSAGES.some((m) => m.test(message))) return code || 'connection lost';
  return null;
}

/** The error as a StoreUnavailableError when the server is unreachable; else as it was. */
export function asStoreError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const code = unreachableCode(err);
  if (code === null) return err;
  const message = (err as { message?: string }).message || code;
  return new StoreUnavailableError(message.split('\n')[0]!, code, { cause: err });
}
