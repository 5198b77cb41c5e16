/** API tokens (their SHA-256 only) and the append-only audit log, in SQLite. */
import { TokenExistsError } from '../token-exists-error.js';
import {
  AUDIT_COLUMNS,
  TOKEN_COLUMNS,
  auditOf,
  tokenOf,
  type AuditRow,
  type TokenRow,
} from '../access-rows.js';
import type { AuditRecord, NewToken, TokenRecord } from '../types.js';
import { lazyStatements } from './lazy-statements.js';
import type { SqliteDatabase } from './sqlite-database.js';

export class AccessRepo {
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#s = lazyStatements(db, {
      insert: `INSERT INTO tokens (name, role, hash, created_at, expires_at, tasks) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO NOTHING RETURNING ${TOKEN_COLUMNS}`,
      list: `SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY name`,
      byHash: `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = ?`,
      touch: `UPDATE tokens SET last_used_at = ? WHERE name = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
      revoke: `UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE name = ? RETURNING ${TOKEN_COLUMNS}`,
      append: `INSERT INTO audit (at, actor, source, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
        RETURNING ${AUDIT_COLUMNS}`,
      listAudit: `SELECT ${AUDIT_COLUMNS} FROM audit WHERE at >= ? ORDER BY id DESC LIMIT ?`,
    });
  }

  insert(t: NewToken): TokenRecord {
    const row = this.#s.insert.get(
      t.name,
      t.role,
      t.hash,
      t.createdAt,
      t.expiresAt,
      t.tasks === null ? null : JSON.stringify(t.tasks),
    ) as TokenRow | undefined;
    if (!row) throw new TokenExistsError(t.name);
    return tokenOf(row);
  }

  list(): TokenRecord[] {
    return (this.#s.list.all() as TokenRow[]).map(tokenOf);
  }

  byHash(hash: string): TokenRecord | undefined {
    const row = this.#s.byHash.get(hash) as TokenRow | undefined;
    return row && tokenOf(row);
  }

  touch(name: string, at: number): void {
    this.#s.touch.run(at, name, at);
  }

  revoke(name: string, at: number): TokenRecord | undefined {
    const row = this.#s.revoke.get(at, name) as TokenRow | undefined;
    return row && tokenOf(row);
  }

  append(e: Omit<AuditRecord, 'id'>): AuditRecord {
    return auditOf(
      this.#s.append.get(e.at, e.actor, e.source, e.action, e.target, e.outcome, e.detail) as AuditRow,
    );
  }

  listAudit(q: { readonly since?: number; readonly limit: number }): AuditRecord[] {
    return (this.#s.listAudit.all(q.since ?? 0, q.limit) as AuditRow[]).map(auditOf);
  }
}
