/**
 * The PostgreSQL connection pool of a PgStore, and the one place that loads the `pg` package
 * (lazily: only a postgres store imports it). Every table lives in the store's own schema, whose
 * quoted name each repository puts in front of its tables. Bigint columns (timestamps in ms,
 * ids) come back as numbers; jsonb comes back parsed.
 */
import type { Pool, PoolClient, QueryResultRow } from 'pg';

export interface PgResult<T> {
  readonly rows: T[];
  readonly rowCount: number;
}

/** A quoted SQL identifier ("caretaker", "my""schema"). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const INT8_OID = 20;

export class PgDatabase {
  readonly #pool: Pool;
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
    const r = await this.#pool.query<T>({ text, values: values as unknown[], ...(name ? { name } : {}) });
    return { rows: r.rows, rowCount: r.rowCount ?? 0 };
  }

  /** Runs `fn` inside BEGIN … COMMIT on one connection; rolls back if it throws. */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      try {
        const value = await fn(client);
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
