/**
 * Every API route is added through `route()`, which takes its access declaration with it: the
 * least role that may call it, the audit action of a change (reads have none and are not
 * audited), whether TCP serves it without a token, and the task it acts on. `onRoute` refuses a
 * route added any other way, so a route without a declared role cannot exist; the declared
 * routes are listed by `declaredRoutes(app)` (the table-driven access test reads it).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteGenericInterface } from 'fastify';
import type { Guard } from './guard.js';
import type { RouteSpec } from './route-access.js';

export type { RouteAccess, RouteSpec } from './route-access.js';

export type Handler<RG extends RouteGenericInterface> = (
  req: FastifyRequest<RG>,
  reply: FastifyReply,
) => Promise<unknown>;

const declared = new WeakMap<object, RouteSpec[]>();

/** Refuses every route added without `route()` from now on, and records those added with it. */
export function requireDeclaredRoutes(app: FastifyInstance): void {
  const list: RouteSpec[] = [];
  declared.set(app, list);
  app.addHook('onRoute', (opts) => {
    const access = opts.config?.access;
    if (!access)
      throw new Error(
        `API route ${String(opts.method)} ${opts.url} declares no role: add it with route({ method, url, role }, handler)`,
      );
    // fastify adds a HEAD route for each GET, with the GET's declaration.
    if (opts.method !== 'HEAD') list.push(access);
  });
}

/** The routes added through `route()`, in order. */
export function declaredRoutes(app: object): readonly RouteSpec[] {
  return declared.get(app) ?? [];
}

/** 401, 403 and 429 are refusals (a failed login); other errors are failures. */
function outcomeOf(status: number): 'ok' | 'failed' | 'refused' {
  if (status < 400) return 'ok';
  return status === 401 || status === 403 || status === 429 ? 'refused' : 'failed';
}

/** Why a change failed, for its audit row: the error's message, or the status of a reply sent. */
function failure(reply: FastifyReply, payload: unknown): string {
  const error = (payload as { error?: unknown } | null)?.error;
  return typeof error === 'string' ? error : `HTTP ${reply.statusCode}`;
}

/**
 * Adds routes with their access declarations (see RouteAccess); a change (a route with an
 * `action`) gets one audit row: ok, or failed with why.
 */
export function router(app: FastifyInstance, guard: Guard) {
  return function route<RG extends RouteGenericInterface = RouteGenericInterface>(
    spec: RouteSpec,
    handler: Handler<RG>,
  ): void {
    if (spec.method !== 'GET' && spec.action === undefined)
      throw new Error(`API route ${spec.method} ${spec.url} changes state but names no audit action`);
    const audit = spec.action === undefined ? undefined : spec;
    const wrapped: Handler<RG> = !audit
      ? handler
      : async (req, reply) => {
          let out: unknown;
          try {
            out = await handler(req, reply);
          } catch (err) {
            const status = (err as { statusCode?: unknown }).statusCode;
            await guard.audited(
              req,
              audit,
              typeof status === 'number' ? outcomeOf(status) : 'failed',
              (err as Error).message,
            );
            throw err;
          }
          const failed = reply.statusCode >= 400;
          if (failed || audit.auditSuccess !== false)
            await guard.audited(req, audit, outcomeOf(reply.statusCode), failed ? failure(reply, out) : null);
          return out;
        };
    app.route<RG>({
      method: spec.method,
      url: spec.url,
      config: { access: spec },
      handler: wrapped as never,
    });
  };
}
