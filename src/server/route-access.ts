/** What every API route declares about who may call it (see routes.ts, guard.ts). */
import type { FastifyRequest } from 'fastify';
import type { TokenRole } from '../caretaker.js';

export interface RouteAccess {
  /** The least role that may call the route. */
  readonly role: TokenRole;
  /** The audit action of a change (`run`, `cancel`, `reload`, …); reads have none. */
  readonly action?: string;
  /** Served on TCP without a token: `/healthz`; `/metrics` when `metrics.public` (read at each request). */
  readonly public?: boolean | (() => boolean);
  /**
   * What the request acts on, from its path: the audit row's target and, for a token limited to
   * some tasks, what it must be one of.
   */
  readonly target?: (req: FastifyRequest) => string | undefined | Promise<string | undefined>;
  /**
   * A success is recorded elsewhere (a dead-man ping in the pings table, every few minutes from
   * a cron job): only refusals and failures go to the audit log. @default true
   */
  readonly auditSuccess?: boolean;
  /**
   * A dashboard page or form: a request without a session is sent to /login (303), a refusal is
   * an HTML page, and a form proves its session with a `csrf` field instead of the header.
   */
  readonly page?: boolean;
}

export interface RouteSpec extends RouteAccess {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly url: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteSpec;
  }
}
