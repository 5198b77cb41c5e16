/**
 * The PostgreSQL connection pool of a PgStore, and the one place that loads the `pg` package
 * (lazily: only a postgres store imports it). Every table lives in the store's own schema, whose
 * quoted name each repository puts in front of its tables. Bigint columns (timestamps in ms,
 * ids) come back as numbers; jsonb comes back parsed. A server that cannot be reached throws
 * StoreUnavailableError (see pg-errors.ts); everything else throws as the driver said it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { asStoreError } from './pg-errors.js';

export interface PgResult<T> {
  readonly rows: T[];
  readonly rowCount: number;
}

/** A quoted SQL identifier ("caretaker", "my""schema"). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const INT8_OID = 20;

/** How long a connection attempt may take before the server counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;

export class PgDatabase {
  readonly #pool: Pool;
  /** The connection of the transaction this call runs inside, if any (see transaction()). */
  readonly #tx = new AsyncLocalStorage<PoolClient>();
  /** The quoted schema name, for `${db.s}.runs`. */
  readonly s: string;

  private constructor(pool: Pool, schema: string) {
    this.#pool = pool;
    this.s = quoteIdent(schema);
  }

  static async connect(url: string, schema: string, max = 4): Promise<PgDatabase> {
    const { default: pg } = await import('pg');
    const parseInt8 = (v: string): number => Number(v);
    const pool = new pg.Pool({
      connectionString: url,
      max,
      // Without it a connection to a host that drops packets waits forever.
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID
            ? parseInt8
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its server (restart) must not crash the process.
    pool.on('error', () => {});
    return new PgDatabase(pool, schema);
  }

  /** One statement; with a name, prepared once per connection and reused. */
  async query<T extends QueryResultRow = Record<string, unknown>>(
    text: string,
    values: readonly unknown[] = [],
    name?: string,
  ): Promise<PgResult<T>> {
    const on = this.#tx.getStore() ?? this.#pool;
    try {
      const r = await on.query<T>({ text, values: values as unknown[], ...(name ? { name } : {}) });
      return { rows: r.rows, rowCount: r.rowCount ?? 0 };
    } catch (err) {
      throw asStoreError(err);
    }
  }

  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; rolls back if it throws. Every query() made
   * inside `fn` (through any repository) runs on that connection, and a transaction() inside one
   * joins it: PgStore.applyOnce relies on both to make a store write and its mark one commit.
   */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const outer = this.#tx.getStore();
    if (outer) return fn(outer);
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw asStoreError(err);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const value = await this.#tx.run(client, () => fn(client));
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      }
    } catch (err) {
      throw asStoreError(err);
    } finally {
      // A connection that lost its server goes, not back into the pool.
      client.release(broken || undefined);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
