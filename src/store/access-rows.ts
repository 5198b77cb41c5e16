/** The tokens and audit tables' rows and records, shared by the SQLite and PostgreSQL access repos. */
import type { AuditRecord, TokenRecord, TokenRole } from './types.js';

export const TOKEN_COLUMNS = 'name, role, hash, created_at, expires_at, last_used_at, revoked_at, tasks';
export const AUDIT_COLUMNS = 'id, at, actor, source, action, target, outcome, detail';

export interface TokenRow {
  name: string;
  role: TokenRole;
  hash: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  tasks: string | null;
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  source: string;
  action: string;
  target: string | null;
  outcome: AuditRecord['outcome'];
  detail: string | null;
}

export function tokenOf(r: TokenRow): TokenRecord {
  return {
    name: r.name,
    role: r.role,
    hash: r.hash,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    tasks: r.tasks === null ? null : (JSON.parse(r.tasks) as string[]),
  };
}

export function auditOf(r: AuditRow): AuditRecord {
  return {
    id: Number(r.id),
    at: Number(r.at),
    actor: r.actor,
    source: r.source,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    detail: r.detail,
  };
}
