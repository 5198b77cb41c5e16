/**
 * The API's gate: who is asking (the control socket acts as admin, as its Unix user; on TCP a
 * bearer token), whether the route's declared role and the token's task limit allow it, and one
 * audit row per change and per refusal — written here, from the route's declaration, so no
 * endpoint has its own. The rules themselves are the facade's (engine/access-control.ts).
 */
import { userInfo } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEntry, Caretaker, Principal } from '../caretaker.js';
import type { RouteSpec } from './route-access.js';

export type Listener = 'socket' | 'tcp';

interface RequestAccess {
  principal: Principal | null;
  readonly source: string;
  readonly target: string | undefined;
  /** The session's CSRF token (a page puts it in its forms); '' without a session. */
  readonly csrf?: string;
  /** A form sent with a cookie: its `csrf` field is checked once the body is parsed. */
  readonly formCsrf?: string;
}

/** A form's body: its CSRF token comes in a field, not a header. */
const isForm = (req: FastifyRequest): boolean =>
  String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

/** The browser session's cookie (see POST /login). */
export const SESSION_COOKIE = 'ct_session';

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * Does a browser's request come from a page of this server? `Origin` must be this server's own
 * scheme://host (browsers send it with every POST); absent, only when `allowAbsent`.
 */
export function sameOrigin(req: FastifyRequest, tls: boolean, allowAbsent: boolean): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return allowAbsent;
  return origin === `${tls ? 'https' : 'http'}://${req.headers.host ?? ''}`;
}

/** The session that a request's cookie names, when it has no bearer token. */
export function sessionCookieOf(req: FastifyRequest): string | undefined {
  return req.headers.authorization === undefined
    ? cookieValue(req.headers.cookie, SESSION_COOKIE)
    : undefined;
}

/** Who the audit row of this request names, once a handler knows it (a login). */
export function actAs(req: FastifyRequest, principal: Principal | string): void {
  const r = requests.get(req);
  const p =
    typeof principal === 'string' ? { actor: principal, role: 'viewer' as const, tasks: [] } : principal;
  if (r) r.principal = p;
  else requests.set(req, { principal: p, source: req.ip, target: undefined });
}

const requests = new WeakMap<FastifyRequest, RequestAccess>();

/** The socket's file mode (0600) lets only the daemon's user (and root) connect: it is that user. */
function socketActor(): string {
  try {
    return `unix:${userInfo().username}`;
  } catch {
    return `unix:uid-${process.getuid?.() ?? '?'}`;
  }
}

const isPublic = (spec: RouteSpec | undefined): boolean =>
  spec !== undefined && (typeof spec.public === 'function' ? spec.public() : spec.public === true);

export interface Guard {
  /** The audit row of a change the route made (or failed to make). */
  audited(
    req: FastifyRequest,
    spec: RouteSpec,
    outcome: 'ok' | 'failed' | 'refused',
    detail?: string | null,
  ): Promise<void>;
  /**
   * Who is asking: the token's (or session's) actor, or the socket's. `trusted`: through the
   * control socket, whose caller may name the person it acts for (the CLI sends its Unix user).
   */
  actorOf(req: FastifyRequest): { actor: string; trusted: boolean } | null;
  /** The principal of a request and its session's CSRF token ('' for a token or the socket). */
  sessionOf(req: FastifyRequest): { principal: Principal; csrf: string } | null;
}

/** How a page's refusals read (set by the dashboard; the API's stay JSON). */
export interface PageRefusals {
  /** A page asked without a session (or with an ended one): where to log in. */
  readonly loginUrl: (req: FastifyRequest) => string;
  readonly render: (status: number, message: string) => string;
}

export function installGuard(
  app: FastifyInstance,
  caretaker: Caretaker,
  listener: Listener,
  tls = false,
  pages?: PageRefusals,
): Guard {
  const socketPrincipal: Principal = { actor: socketActor(), role: 'admin', tasks: null };
  // An audit row that cannot be written (a full disk, a store away) must not undo or fail the
  // change it records: it is logged instead.
  const write = async (e: AuditEntry) => {
    try {
      await (await caretaker.access()).record(e);
    } catch (err) {
      caretaker.logger.error({ err, audit: e }, 'could not write an audit row');
    }
  };
  const refuse = async (
    req: FastifyRequest,
    reply: FastifyReply,
    status: 401 | 403,
    e: AuditEntry & { detail: string },
  ) => {
    try {
      await (await caretaker.access()).recordRefusal(e);
    } catch (err) {
      caretaker.logger.error({ err, audit: e }, 'could not write an audit row');
    }
    const page = req.routeOptions.config.access?.page === true;
    if (pages && page && (req.method === 'GET' || isForm(req))) {
      if (status === 401 && req.method === 'GET') return reply.redirect(pages.loginUrl(req), 303);
      return reply.code(status).type('text/html; charset=utf-8').send(pages.render(status, e.detail));
    }
    return reply.code(status).send({ error: e.detail, exitCode: 2 });
  };

  app.addHook('onRequest', async (req, reply) => {
    const spec = req.routeOptions.config.access;
    if (listener === 'socket') {
      requests.set(req, { principal: socketPrincipal, source: 'socket', target: await spec?.target?.(req) });
      return;
    }
    const source = req.ip;
    if (isPublic(spec)) {
      requests.set(req, { principal: null, source, target: undefined });
      return;
    }
    const action = spec?.action ?? 'read';
    const path = req.url.split('?')[0]!;
    const cookie = sessionCookieOf(req);
    const change = req.method !== 'GET' && req.method !== 'HEAD';
    // A change made with a cookie comes from a page of this server (Origin) and carries the
    // session's CSRF token: another site can make the browser send the cookie, not these.
    if (cookie !== undefined && change && !sameOrigin(req, tls, false))
      return refuse(req, reply, 403, {
        actor: 'anonymous',
        source,
        action,
        target: path,
        outcome: 'refused',
        detail: `a change made with a session cookie must come from this server's pages (Origin ${req.headers.origin ?? 'missing'})`,
      });
    let access;
    let auth;
    let formCsrf: string | undefined;
    let csrf = '';
    try {
      access = await caretaker.access();
      if (cookie !== undefined) {
        const header = [req.headers['x-csrf-token']].flat()[0];
        // A page's form carries its token in the body, read once parsed (preHandler below).
        const form = change && header === undefined && isForm(req);
        const session = await (
          await caretaker.sessions()
        ).check(cookie, change && !form ? { csrf: header } : undefined);
        if (!session.ok)
          return refuse(req, reply, session.status, {
            actor: session.actor,
            source,
            action,
            target: path,
            outcome: 'refused',
            detail: session.reason,
          });
        auth = session;
        if (form) formCsrf = cookie;
        csrf = session.csrf;
      } else auth = await access.authenticate(req.headers.authorization);
    } catch (err) {
      caretaker.logger.error({ err }, 'could not check an API token');
      return reply
        .code(503)
        .send({ error: `cannot check the token now: ${(err as Error).message}`, exitCode: 1 });
    }
    if (!auth.ok)
      return refuse(req, reply, 401, {
        actor: auth.actor,
        source,
        action,
        target: path,
        outcome: 'refused',
        detail: auth.reason,
      });
    // An unknown path, for a caller with a valid token: fastify's 404.
    if (!spec) return;
    const target = await spec.target?.(req);
    const allowed = access.authorize(auth.principal, { role: spec.role, task: target });
    if (!allowed.ok)
      return refuse(req, reply, 403, {
        actor: auth.principal.actor,
        source,
        action,
        target: target ?? path,
        outcome: 'refused',
        detail: allowed.reason,
      });
    requests.set(req, { principal: auth.principal, source, target, csrf, formCsrf });
  });

  // A form's CSRF token, now that its body is parsed: a form without it (or with another) is refused.
  app.addHook('preHandler', async (req, reply) => {
    const r = requests.get(req);
    if (r?.formCsrf === undefined) return;
    const field = (req.body as { csrf?: unknown } | undefined)?.csrf;
    const session = await (
      await caretaker.sessions()
    ).check(r.formCsrf, { csrf: typeof field === 'string' ? field : undefined });
    if (!session.ok)
      return refuse(req, reply, session.status, {
        actor: session.actor,
        source: r.source,
        action: req.routeOptions.config.access?.action ?? 'read',
        target: r.target ?? req.url.split('?')[0]!,
        outcome: 'refused',
        detail: session.reason,
      });
  });

  return {
    sessionOf(req) {
      const r = requests.get(req);
      return r?.principal ? { principal: r.principal, csrf: r.csrf ?? '' } : null;
    },
    actorOf(req) {
      const r = requests.get(req);
      return r?.principal ? { actor: r.principal.actor, trusted: r.source === 'socket' } : null;
    },
    async audited(req, spec, outcome, detail) {
      const r = requests.get(req);
      await write({
        actor: r?.principal?.actor ?? 'anonymous',
        source: r?.source ?? req.ip,
        action: spec.action!,
        // A target read from the body (a token's name) is known only after onRequest.
        target: r?.target ?? (await spec.target?.(req)) ?? null,
        outcome,
        detail: detail ?? null,
      });
    },
  };
}
