/**
 * One PostgreSQL connection for an action: timeouts set on the session so maintenance never
 * waits long behind the application's locks, an abort that cancels the running statement on the
 * server (closing the socket alone leaves a VACUUM running until it next writes to the client),
 * and error messages scrubbed of the URL's password.
 */
import type pg from 'pg';
import { scrubSecrets } from '../../core/redact-url.js';

export interface PgSessionOptions {
  readonly url: string;
  readonly signal: AbortSignal;
  /** How long a statement may wait for a lock before giving up (SQLSTATE 55P03). */
  readonly lockTimeoutMs: number;
  /** How long one statement may run. 0 = no limit. */
  readonly statementTimeoutMs: number;
  /** Parse values the way an archive wants them: exact text for timestamps, numerics and bytea. */
  readonly archiveTypes?: boolean;
}

const INT8 = 20;
const BYTEA = 17;
const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

/** int8 as a number while exact, else its text: ids stay numbers in archives, nothing is rounded. */
function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

const archiveTypes = (driver: typeof pg) => ({
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // Timestamps as PostgreSQL prints them keep microseconds and the zone (a JS Date drops both).
    if (oid === TIMESTAMP || oid === TIMESTAMPTZ || oid === DATE || oid === BYTEA) return (v: string) => v;
    if (oid === INT8) return parseInt8;
    return driver.types.getTypeParser(oid, format ?? 'text');
  },
});

/** The driver, loaded on first use: commands that only load the config never pay for it. */
let driver: Promise<typeof pg> | undefined;
const loadDriver = () => (driver ??= import('pg').then((m) => m.default));

export class PgSession {
  readonly #url: string;
  readonly client: pg.Client;
  #pid = 0;
  #onAbort: (() => void) | undefined;
  #signal: AbortSignal | undefined;

  private constructor(url: string, client: pg.Client) {
    this.#url = url;
    this.client = client;
  }

  static async open(o: PgSessionOptions): Promise<PgSession> {
    const pgm = await loadDriver();
    const client = new pgm.Client({
      connectionString: o.url,
      application_name: 'caretaker',
      connectionTimeoutMillis: 10_000,
      ...(o.archiveTypes ? { types: archiveTypes(pgm) } : {}),
    });
    // A connection dropped by the server between statements must not become an unhandled 'error'.
    client.on('error', () => {});
    const session = new PgSession(o.url, client);
    try {
      await client.connect();
      const r = await client.query<{ pid: number }>(
        `SELECT pg_backend_pid() AS pid, set_config('lock_timeout', $1, false),
                set_config('statement_timeout', $2, false)`,
        [`${o.lockTimeoutMs}ms`, `${o.statementTimeoutMs}ms`],
      );
      session.#pid = r.rows[0]!.pid;
    } catch (err) {
      await client.end().catch(() => {});
      throw new Error(session.describe(err), { cause: err });
    }
    session.#signal = o.signal;
    session.#onAbort = () => void session.cancel();
    o.signal.addEventListener('abort', session.#onAbort, { once: true });
    return session;
  }

  get pid(): number {
    return this.#pid;
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) {
    return this.client.query<R>(text, values);
  }

  /** Cancels the statement in flight from a second connection (what psql's Ctrl-C does). */
  async cancel(): Promise<void> {
    const other = new (await loadDriver()).Client({
      connectionString: this.#url,
      connectionTimeoutMillis: 5_000,
    });
    other.on('error', () => {});
    try {
      await other.connect();
      await other.query('SELECT pg_cancel_backend($1)', [this.#pid]);
    } catch {
      // Best effort: the statement timeout still bounds it.
    } finally {
      await other.end().catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort);
    await this.client.end().catch(() => {});
  }

  /** One line for an error from this session: message, SQLSTATE, no password. */
  describe(err: unknown): string {
    return describePgError(err, this.#url);
  }
}

export function describePgError(err: unknown, url: string | undefined): string {
  const e = err as Error & { code?: string; errors?: Error[] };
  // An AggregateError (several addresses refused) has an empty message; use its parts.
  let message = e.message || e.errors?.map((x) => x.message).join('; ') || String(err);
  if (e.code && /^[0-9A-Z]{5}$/.test(e.code)) message += ` (SQLSTATE ${e.code})`;
  else if (e.code && !message.includes(e.code)) message = `${e.code}: ${message}`;
  return scrubSecrets(message.split('\n')[0]!, url);
}

/** SQLSTATE 55P03 lock_not_available, or 57014 with the lock_timeout wording. */
export function isLockTimeout(err: unknown): boolean {
  return (err as { code?: string }).code === '55P03';
}
