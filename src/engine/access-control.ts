/**
 * Tokens and the audit log as use cases: creating a token (printed once, only its SHA-256
 * kept), listing and revoking them, checking a bearer token of a request, deciding whether a
 * principal may do an endpoint's work, and writing one audit row per change or refusal. The
 * HTTP server asks this module; it holds no rule of its own.
 *
 * A presented token is hashed and looked up by its hash: the index lookup's timing can tell an
 * attacker at most something about a SHA-256 of their guess, nothing about a real token; the
 * stored and computed hashes are then compared in constant time anyway, and so is the legacy
 * token of `server.token_env`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  TOKEN_EXPIRY_WARNING_MS,
  TOKEN_NAME,
  TOKEN_NAME_HINT,
  TOKEN_ROLES,
  TOKEN_TOUCH_EVERY_MS,
  isTokenRole,
  roleAllows,
  type TokenRole,
} from '../core/access-roles.js';
import type { Clock } from '../core/clock.js';
import { UsageError } from '../errors/usage-error.js';
import type { AccessStore, AuditOutcome, AuditRecord, TokenRecord } from '../store/types.js';

/** A token as shown: everything but its hash, and whether it expired or soon will. */
export interface TokenView {
  readonly name: string;
  readonly role: TokenRole;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
  readonly tasks: readonly string[] | null;
  readonly expired: boolean;
  /** Not revoked, not expired, and expiring within 7 days. */
  readonly expiresSoon: boolean;
}

/** Who is asking: a token, the control socket's user, or the legacy environment token. */
export interface Principal {
  /** As written in the audit log: a token's name, `unix:USER`, `env:NAME`. */
  readonly actor: string;
  readonly role: TokenRole;
  /** The tasks (and watches) an operator token may act on; null for any. */
  readonly tasks: readonly string[] | null;
}

export type Authentication =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly actor: string; readonly reason: string };

export type Authorization = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface AuditEntry {
  readonly actor: string;
  readonly source: string;
  readonly action: string;
  readonly target?: string | null;
  readonly outcome: AuditOutcome;
  readonly detail?: string | null;
}

export interface NewTokenRequest {
  readonly name: string;
  readonly role: string;
  /** From now; null or undefined: never expires. */
  readonly expiresInMs?: number | null;
  readonly tasks?: readonly string[] | null;
}

export interface AccessControlOptions {
  readonly store: AccessStore;
  readonly clock: Clock;
  /** The task and watch names a token's `tasks` may name. */
  readonly knownTargets: () => readonly string[];
  /** The legacy admin token (`server.token_env`): its variable's name and value, if set. */
  readonly legacyToken?: () => { readonly env: string; readonly value: string | undefined };
}

export const TOKEN_PREFIX = 'ct_';

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

export function hashToken(token: string): string {
  return sha256(token).toString('hex');
}

/** `ct_` and 32 random bytes, base64url: 46 characters. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One audit row per distinct refusal and source in this long (see recordRefusal). */
export const REFUSAL_WINDOW_MS = 60_000;
const MAX_REFUSAL_KEYS = 10_000;

export class AccessControl {
  readonly #o: AccessControlOptions;
  /** Refusals written in the last minute, by what they were, with how many more came since. */
  readonly #refusals = new Map<string, { since: number; more: number }>();
  /** When each token's last use was last written (at most once a minute, see TOKEN_TOUCH_EVERY_MS). */
  readonly #touched = new Map<string, number>();

  constructor(opts: AccessControlOptions) {
    this.#o = opts;
  }

  view(t: TokenRecord): TokenView {
    const now = this.#o.clock.now();
    const expired = t.expiresAt !== null && t.expiresAt <= now;
    return {
      name: t.name,
      role: t.role,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      lastUsedAt: t.lastUsedAt,
      revokedAt: t.revokedAt,
      tasks: t.tasks,
      expired,
      expiresSoon:
        t.revokedAt === null &&
        !expired &&
        t.expiresAt !== null &&
        t.expiresAt - now <= TOKEN_EXPIRY_WARNING_MS,
    };
  }

  /**
   * Makes a token; the token itself is in the answer only (print it once). The caller audits it. Bad
   * input is a UsageError naming what was expected; a taken name is TokenExistsError (exit 2).
   */
  async createToken(req: NewTokenRequest): Promise<{ token: string; record: TokenView }> {
    if (!TOKEN_NAME.test(req.name))
      throw new UsageError(`token name "${req.name}" is not valid: expected ${TOKEN_NAME_HINT}`);
    if (!isTokenRole(req.role))
      throw new UsageError(`--role expects ${TOKEN_ROLES.join(', ')}, got "${req.role}"`);
    const tasks = req.tasks ?? null;
    if (tasks !== null) {
      if (req.role !== 'operator')
        throw new UsageError(
          `--tasks limits what an operator token may act on; a ${req.role} token cannot have it`,
        );
      if (tasks.length === 0) throw new UsageError('--tasks expects task ids such as backup,rotate-logs');
      const known = new Set(this.#o.knownTargets());
      const unknown = tasks.filter((t) => !known.has(t));
      if (unknown.length > 0)
        throw new UsageError(
          `--tasks: no task or watch named ${unknown.map((u) => `"${u}"`).join(', ')} in the configuration`,
        );
    }
    if (req.expiresInMs !== undefined && req.expiresInMs !== null && !(req.expiresInMs > 0))
      throw new UsageError('--expires expects a duration such as 30d, 12h or 2w');
    const now = this.#o.clock.now();
    const token = generateToken();
    const record = await this.#o.store.insertToken({
      name: req.name,
      role: req.role,
      hash: hashToken(token),
      createdAt: now,
      expiresAt: req.expiresInMs ? now + req.expiresInMs : null,
      tasks: tasks === null ? null : [...new Set(tasks)],
    });
    return { token, record: this.view(record) };
  }

  async listTokens(): Promise<TokenView[]> {
    return (await this.#o.store.listTokens()).map((t) => this.view(t));
  }

  /** Tokens in use that expire within 7 days (what `token list` and `status` warn of). */
  async expiringTokens(): Promise<TokenView[]> {
    return (await this.listTokens()).filter((t) => t.expiresSoon);
  }

  /** Revokes a token (the caller audits it); UsageError for a name no token has. */
  async revokeToken(name: string): Promise<{ record: TokenView; already: boolean }> {
    const before = (await this.#o.store.listTokens()).find((t) => t.name === name);
    if (!before) throw new UsageError(`no token named "${name}" (caretaker token list shows them)`);
    const after = (await this.#o.store.revokeToken(name, this.#o.clock.now()))!;
    return { record: this.view(after), already: before.revokedAt !== null };
  }

  /** Checks an `Authorization` header: a stored token (not expired, not revoked) or the legacy one. */
  async authenticate(authorization: string | undefined): Promise<Authentication> {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    if (!m)
      return {
        ok: false,
        actor: 'anonymous',
        reason: authorization
          ? 'the Authorization header is not "Bearer TOKEN"'
          : 'this endpoint needs a token: Authorization: Bearer TOKEN (caretaker token create)',
      };
    return this.authenticateToken(m[1]!);
  }

  /** Checks a token itself (a bearer token, or one given to log in with). */
  async authenticateToken(token: string): Promise<Authentication> {
    return this.authenticateHash(hashToken(token));
  }

  /**
   * Checks a token by its SHA-256 (a browser session keeps only that): the token must still be
   * there, not revoked, not expired — so revoking a token also ends its sessions.
   */
  async authenticateHash(hash: string): Promise<Authentication> {
    const presented = Buffer.from(hash, 'hex');
    if (presented.length !== 32) return { ok: false, actor: 'anonymous', reason: 'the token is not valid' };
    const legacy = this.#o.legacyToken?.();
    if (legacy?.value && timingSafeEqual(presented, sha256(legacy.value)))
      return { ok: true, principal: { actor: `env:${legacy.env}`, role: 'admin', tasks: null } };
    const record = await this.#o.store.tokenByHash(hash);
    if (!record || !timingSafeEqual(Buffer.from(record.hash, 'hex'), presented))
      return { ok: false, actor: 'anonymous', reason: 'the token is not valid' };
    const now = this.#o.clock.now();
    if (record.revokedAt !== null)
      return {
        ok: false,
        actor: record.name,
        reason: `the token "${record.name}" was revoked at ${iso(record.revokedAt)}`,
      };
    if (record.expiresAt !== null && record.expiresAt <= now)
      return {
        ok: false,
        actor: record.name,
        reason: `the token "${record.name}" expired at ${iso(record.expiresAt)}`,
      };
    await this.#touch(record, now);
    return { ok: true, principal: { actor: record.name, role: record.role, tasks: record.tasks } };
  }

  async #touch(record: TokenRecord, now: number): Promise<void> {
    const last = Math.max(this.#touched.get(record.name) ?? -Infinity, record.lastUsedAt ?? -Infinity);
    if (now - last < TOKEN_TOUCH_EVERY_MS) return;
    this.#touched.set(record.name, now);
    // Best effort: a store that cannot take the write (a full disk) must not lock the API out.
    await this.#o.store.touchToken(record.name, now).catch(() => this.#touched.delete(record.name));
  }

  /**
   * May this principal do work that needs `role`, on `task` (a task or watch name, when the work
   * has one)? A token limited to some tasks may change only those; reads are never limited.
   */
  authorize(p: Principal, need: { readonly role: TokenRole; readonly task?: string | null }): Authorization {
    if (!roleAllows(p.role, need.role))
      return {
        ok: false,
        reason: `the ${p.role} token "${p.actor}" may not do this; it needs the ${need.role} role`,
      };
    if (p.tasks !== null && need.role !== 'viewer') {
      if (need.task === undefined || need.task === null)
        return { ok: false, reason: `the token "${p.actor}" may act only on ${p.tasks.join(', ')}` };
      if (!p.tasks.includes(need.task))
        return {
          ok: false,
          reason: `the token "${p.actor}" may act only on ${p.tasks.join(', ')}, not on ${need.task}`,
        };
    }
    return { ok: true };
  }

  /**
   * The audit row of a refused request. The same refusal from the same source (a scanner, a
   * client with a stale token) is written once a minute; the ones in between are counted into the
   * next such row ("and N more like it since …"), so the log stays readable and an
   * unauthenticated client cannot fill the disk with it. Null when this one was only counted.
   */
  async recordRefusal(e: AuditEntry): Promise<AuditRecord | null> {
    const now = this.#o.clock.now();
    const key = [e.source, e.actor, e.action, e.target ?? '', e.detail ?? ''].join('\u0000');
    const seen = this.#refusals.get(key);
    if (seen && now - seen.since < REFUSAL_WINDOW_MS) {
      seen.more++;
      return null;
    }
    if (!seen && this.#refusals.size >= MAX_REFUSAL_KEYS) {
      for (const [k, r] of this.#refusals) if (now - r.since >= REFUSAL_WINDOW_MS) this.#refusals.delete(k);
      if (this.#refusals.size >= MAX_REFUSAL_KEYS) this.#refusals.delete(this.#refusals.keys().next().value!);
    }
    this.#refusals.delete(key); // re-inserted last: the Map's order is the order of the windows
    this.#refusals.set(key, { since: now, more: 0 });
    if (!seen || seen.more === 0) return this.record(e);
    const since = new Date(seen.since).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return this.record({ ...e, detail: `${e.detail ?? ''} (and ${seen.more} more like it since ${since})` });
  }

  /** Appends one audit row, at the clock's now. */
  async record(e: AuditEntry): Promise<AuditRecord> {
    return this.#o.store.appendAudit({
      at: this.#o.clock.now(),
      actor: e.actor,
      source: e.source,
      action: e.action,
      target: e.target ?? null,
      outcome: e.outcome,
      detail: e.detail === undefined || e.detail === null ? null : e.detail.slice(0, 1_000),
    });
  }

  async audit(q: { readonly since?: number; readonly limit?: number } = {}): Promise<AuditRecord[]> {
    return this.#o.store.listAudit({ since: q.since, limit: q.limit ?? 1_000 });
  }
}
