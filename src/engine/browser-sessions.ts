/**
 * Browser sessions for the dashboard: log in once with a token, then a session cookie. The
 * session keeps the token's SHA-256 only and checks it again at every request (a revoked or
 * expired token ends its sessions at once); every change made with the cookie needs the
 * session's CSRF token; failed logins are limited per client address. Sessions live in the
 * daemon's memory: a restart logs everyone out, which is the safe side.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { hashToken, type AccessControl, type Principal } from './access-control.js';

/** A session lasts this long (less when its token expires sooner). */
export const SESSION_MS = 12 * 3_600_000;
/** Failed logins allowed per client address within LOGIN_WINDOW_MS. */
export const LOGIN_FAILURES_ALLOWED = 5;
export const LOGIN_WINDOW_MS = 60_000;
const MAX_SESSIONS = 10_000;
const MAX_TRACKED_SOURCES = 10_000;

/** A one-time login code (`caretaker dashboard`) lives this long. */
export const ONCE_MS = 60_000;
const MAX_CODES = 100;

interface Session {
  /** The token it was opened with, checked again at each request; null for a one-time code's. */
  readonly tokenHash: string | null;
  /** A one-time code's session acts for the principal that minted it (the control socket's). */
  readonly principal: Principal | null;
  readonly csrf: string;
  readonly expiresAt: number;
}

export type Login =
  | {
      readonly ok: true;
      /** The cookie's value: shown to the browser only, kept here as its SHA-256. */
      readonly id: string;
      readonly csrf: string;
      readonly expiresAt: number;
      /** The cookie's Max-Age, in seconds. */
      readonly maxAgeS: number;
      readonly principal: Principal;
    }
  | {
      readonly ok: false;
      readonly status: 401 | 429;
      readonly actor: string;
      readonly reason: string;
      readonly retryAfterS?: number;
    };

export type SessionCheck =
  | { readonly ok: true; readonly principal: Principal; readonly csrf: string }
  | { readonly ok: false; readonly status: 401 | 403; readonly actor: string; readonly reason: string };

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

function csrfMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class BrowserSessions {
  readonly #access: AccessControl;
  readonly #clock: Clock;
  /** By the SHA-256 of the cookie's value. */
  readonly #sessions = new Map<string, Session>();
  /** Failed login instants per client address, oldest first. */
  readonly #failures = new Map<string, number[]>();
  /** One-time codes by their SHA-256: who minted them and until when they hold. */
  readonly #codes = new Map<string, { readonly principal: Principal; readonly expiresAt: number }>();

  constructor(access: AccessControl, clock: Clock) {
    this.#access = access;
    this.#clock = clock;
  }

  async login(token: string, source: string): Promise<Login> {
    const now = this.#clock.now();
    const recent = (this.#failures.get(source) ?? []).filter((t) => t > now - LOGIN_WINDOW_MS);
    if (recent.length >= LOGIN_FAILURES_ALLOWED) {
      const retryAfterS = Math.max(1, Math.ceil((recent[0]! + LOGIN_WINDOW_MS - now) / 1_000));
      return {
        ok: false,
        status: 429,
        actor: 'anonymous',
        reason: `too many failed logins from ${source}; try again in ${retryAfterS}s`,
        retryAfterS,
      };
    }
    const auth = await this.#access.authenticateToken(token);
    if (!auth.ok) {
      this.#failed(source, recent, now);
      return { ok: false, status: 401, actor: auth.actor, reason: auth.reason };
    }
    this.#failures.delete(source);
    this.#purge(now);
    const tokenHash = hashToken(token);
    const expiry = (await this.#access.listTokens()).find((t) => t.name === auth.principal.actor)?.expiresAt;
    const expiresAt = Math.min(now + SESSION_MS, expiry ?? Infinity);
    return this.#open({ tokenHash, principal: null, expiresAt }, auth.principal, now);
  }

  #open(s: Omit<Session, 'csrf'>, principal: Principal, now: number): Login {
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.#sessions.set(digest(id), { ...s, csrf });
    const maxAgeS = Math.max(1, Math.floor((s.expiresAt - now) / 1_000));
    return { ok: true, id, csrf, expiresAt: s.expiresAt, maxAgeS, principal };
  }

  /**
   * A random code that logs a browser in once, within ONCE_MS, as `principal` (the control
   * socket's caller: `caretaker dashboard`). Kept as its SHA-256, in memory like the sessions.
   */
  mintOnce(principal: Principal): { readonly code: string; readonly expiresAt: number } {
    const now = this.#clock.now();
    for (const [k, c] of this.#codes) if (c.expiresAt <= now) this.#codes.delete(k);
    while (this.#codes.size >= MAX_CODES) this.#codes.delete(this.#codes.keys().next().value!);
    const code = randomBytes(24).toString('base64url');
    const expiresAt = now + ONCE_MS;
    this.#codes.set(digest(code), { principal, expiresAt });
    return { code, expiresAt };
  }

  /** Turns a one-time code into a session; a used, expired or unknown code is a failed login. */
  redeemOnce(code: string, source: string): Login {
    const now = this.#clock.now();
    const recent = (this.#failures.get(source) ?? []).filter((t) => t > now - LOGIN_WINDOW_MS);
    if (recent.length >= LOGIN_FAILURES_ALLOWED) {
      const retryAfterS = Math.max(1, Math.ceil((recent[0]! + LOGIN_WINDOW_MS - now) / 1_000));
      return {
        ok: false,
        status: 429,
        actor: 'anonymous',
        reason: `too many failed logins from ${source}; try again in ${retryAfterS}s`,
        retryAfterS,
      };
    }
    const key = digest(code);
    const c = this.#codes.get(key);
    this.#codes.delete(key);
    if (!c || c.expiresAt <= now) {
      this.#failed(source, recent, now);
      return {
        ok: false,
        status: 401,
        actor: 'anonymous',
        reason: 'this login link is used, expired or unknown: run caretaker dashboard again',
      };
    }
    this.#purge(now);
    return this.#open(
      { tokenHash: null, principal: c.principal, expiresAt: now + SESSION_MS },
      c.principal,
      now,
    );
  }

  /**
   * The principal of a session cookie, its token checked again; a change (`csrf` given, possibly
   * undefined) also needs the session's CSRF token, compared in constant time.
   */
  async check(id: string, change?: { readonly csrf: string | undefined }): Promise<SessionCheck> {
    const key = digest(id);
    const s = this.#sessions.get(key);
    if (!s || s.expiresAt <= this.#clock.now()) {
      this.#sessions.delete(key);
      return { ok: false, status: 401, actor: 'anonymous', reason: 'the session has ended: log in again' };
    }
    const auth = s.principal
      ? { ok: true as const, principal: s.principal }
      : await this.#access.authenticateHash(s.tokenHash!);
    if (!auth.ok) {
      this.#sessions.delete(key);
      return { ok: false, status: 401, actor: auth.actor, reason: `${auth.reason}: its session has ended` };
    }
    if (change && !csrfMatches(s.csrf, change.csrf))
      return {
        ok: false,
        status: 403,
        actor: auth.principal.actor,
        reason:
          "a change made with a session cookie needs its CSRF token (the X-CSRF-Token header, or the csrf field of a page's form)",
      };
    return { ok: true, principal: auth.principal, csrf: s.csrf };
  }

  logout(id: string): boolean {
    return this.#sessions.delete(digest(id));
  }

  #failed(source: string, recent: number[], now: number): void {
    if (!this.#failures.has(source) && this.#failures.size >= MAX_TRACKED_SOURCES) {
      for (const [k, times] of this.#failures)
        if (times.every((t) => t <= now - LOGIN_WINDOW_MS)) this.#failures.delete(k);
      // Still full (an attack from many addresses): forget the oldest-tracked one.
      if (this.#failures.size >= MAX_TRACKED_SOURCES)
        this.#failures.delete(this.#failures.keys().next().value!);
    }
    this.#failures.set(source, [...recent, now]);
  }

  #purge(now: number): void {
    for (const [k, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(k);
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
  }
}
