/** API tokens (their SHA-256 only) and the append-only audit log, in PostgreSQL. */
import { TokenExistsError } from '../token-exists-error.js';
import type { AuditRecord, NewToken, TokenRecord } from '../types.js';
import { AUDIT_COLUMNS, TOKEN_COLUMNS, auditOf, tokenOf } from '../access-rows.js';
import type { PgDatabase } from './pg-database.js';

type Row = Record<string, unknown>;

export class PgAccessRepo {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async insert(t: NewToken): Promise<TokenRecord> {
    const r = await this.#db.query<Row>(
      `INSERT INTO ${this.#db.s}.tokens (name, role, hash, created_at, expires_at, tasks)
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING ${TOKEN_COLUMNS}`,
      [t.name, t.role, t.hash, t.createdAt, t.expiresAt, t.tasks === null ? null : JSON.stringify(t.tasks)],
    );
    if (!r.rows[0]) throw new TokenExistsError(t.name);
    return tokenOf(r.rows[0] as never);
  }

  async list(): Promise<TokenRecord[]> {
    const r = await this.#db.query<Row>(
      `SELECT ${TOKEN_COLUMNS} FROM ${this.#db.s}.tokens ORDER BY name COLLATE "C"`,
    );
    return r.rows.map((x) => tokenOf(x as never));
  }

  async byHash(hash: string): Promise<TokenRecord | undefined> {
    const r = await this.#db.query<Row>(`SELECT ${TOKEN_COLUMNS} FROM ${this.#db.s}.tokens WHERE hash = $1`, [
      hash,
    ]);
    return r.rows[0] && tokenOf(r.rows[0] as never);
  }

  async touch(name: string, at: number): Promise<void> {
    await this.#db.query(
      `UPDATE ${this.#db.s}.tokens SET last_used_at = $1 WHERE name = $2 AND (last_used_at IS NULL OR last_used_at < $1)`,
      [at, name],
    );
  }

  async revoke(name: string, at: number): Promise<TokenRecord | undefined> {
    const r = await this.#db.query<Row>(
      `UPDATE ${this.#db.s}.tokens SET revoked_at = coalesce(revoked_at, $1) WHERE name = $2 RETURNING ${TOKEN_COLUMNS}`,
      [at, name],
    );
    return r.rows[0] && tokenOf(r.rows[0] as never);
  }

  async append(e: Omit<AuditRecord, 'id'>): Promise<AuditRecord> {
    const r = await this.#db.query<Row>(
      `INSERT INTO ${this.#db.s}.audit (at, actor, source, action, target, outcome, detail)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${AUDIT_COLUMNS}`,
      [e.at, e.actor, e.source, e.action, e.target, e.outcome, e.detail],
    );
    return auditOf(r.rows[0] as never);
  }

  async listAudit(q: { readonly since?: number; readonly limit: number }): Promise<AuditRecord[]> {
    const r = await this.#db.query<Row>(
      `SELECT ${AUDIT_COLUMNS} FROM ${this.#db.s}.audit WHERE at >= $1 ORDER BY id DESC LIMIT $2`,
      [q.since ?? 0, q.limit],
    );
    return r.rows.map((x) => auditOf(x as never));
  }
}
