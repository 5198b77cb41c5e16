/**
 * The daemon's HTTP API. Served on the control socket (filesystem permissions guard it; it acts
 * as admin) and, when `server.listen` is set, on TCP (HTTPS with `server.tls`), where every
 * request but `/healthz` needs a token whose role allows the route (guard.ts). Every route is
 * added with its access declaration (routes.ts) and is one call into the facade.
 */
import formbody from '@fastify/formbody';
import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FAILURE_STATUSES, type Caretaker } from '../caretaker.js';
import { parseDuration } from '../core/duration.js';
import { didYouMean } from '../core/did-you-mean.js';
import { UsageError } from '../errors/usage-error.js';
import { PROMETHEUS_CONTENT_TYPE } from '../report/prometheus-text.js';
import { VERSION } from '../version.js';
import { SESSION_COOKIE, actAs, installGuard, sameOrigin, sessionCookieOf, type Listener } from './guard.js';
import { requireDeclaredRoutes, router } from './routes.js';
import { CSP, registerDashboard, sessionCookie } from './dashboard/dashboard-routes.js';
import { loginPage, messagePage } from './dashboard/layout.js';
import { pointTask, restoreDetail } from '../core/rollback-audit.js';

/** A browser's form (the dashboard's pages send them; API clients send JSON). */
const isForm = (req: FastifyRequest): boolean =>
  String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

/** A request a browser made for a page, or a page's form: it is answered in HTML. */
const wantsPage = (req: FastifyRequest): boolean =>
  req.routeOptions.config?.access?.page === true && (req.method === 'GET' || isForm(req));

/** Text answers over 1 KB, gzipped for a client that accepts gzip; others as they are. */
function gzipped(req: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
  if (Buffer.byteLength(payload) < 1_024 || reply.hasHeader('content-encoding')) return payload;
  if (!/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return payload;
  if (
    !/^(text\/|application\/json|application\/javascript)/.test(String(reply.getHeader('content-type') ?? ''))
  )
    return payload;
  void reply
    .header('content-encoding', 'gzip')
    .header('vary', 'accept-encoding')
    .removeHeader('content-length');
  return gzipSync(payload, { level: 6 });
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Not logged in',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Busy',
  429: 'Too many attempts',
};

export interface ApiOptions {
  /** Where this instance listens: the control socket (admin) or TCP (tokens). @default 'socket' */
  readonly listener?: Listener;
  /** TCP only: serve HTTPS with this certificate and key (PEM). */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
  /** Called by POST /v1/stop after the reply is sent. */
  readonly onStop?: () => void;
  readonly onReload?: () => Promise<void>;
}

/** A run id from the path: a whole number, else a usage error (400), never "run #NaN". */
function runId(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text))
    throw new UsageError(`a run id is a whole number such as 42, got "${text}"`);
  return Number(text);
}

/** An answer other than 200 with its status, thrown so that the audit row gets its message. */
class HttpAnswer extends Error {
  override name = 'HttpAnswer';
  constructor(
    message: string,
    readonly statusCode: number,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** A field of a request body that, when given, is a string. */
function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new UsageError(`${field}: expected a string, got ${typeof value}`);
  return value;
}

/**
 * A body field the route does not know is refused, not ignored: a typo such as `dryrun` would
 * otherwise turn a dry run into the real change.
 */
function onlyFields(body: object, known: readonly string[]): void {
  for (const key of Object.keys(body)) {
    // A form sent with a session cookie carries its CSRF token in the body; the guard checks it.
    if (!known.includes(key) && key !== 'csrf')
      throw new UsageError(
        `${key}: not a field of this request; expected ${known.join(', ')}${didYouMean(key, known)}`,
      );
  }
}

function exitCodeOf(err: unknown): number {
  return (err as { exitCode?: number }).exitCode ?? 0;
}

/** The routes declare no schemas; one that did would be a mistake to hear about at once. */
function noSchemaCompiler(): never {
  throw new Error('the caretaker API routes declare no schemas');
}

type Params<K extends string> = { Params: Record<K, string> };
const param =
  (key: string) =>
  (req: { params: unknown }): string | undefined =>
    (req.params as Record<string, string | undefined>)[key];

export function buildApi(caretaker: Caretaker, opts: ApiOptions = {}): FastifyInstance {
  const app = Fastify({
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
    logger: false,
    forceCloseConnections: true,
    // Without compilers of our own, fastify loads ajv and fast-json-stringify (about 110 modules,
    // 3 MB of an idle daemon's heap) to compile schemas no route has.
    schemaController: {
      compilersFactory: { buildValidator: () => noSchemaCompiler, buildSerializer: () => noSchemaCompiler },
    },
  }) as unknown as FastifyInstance;
  requireDeclaredRoutes(app);
  const tls = opts.https !== undefined;
  // Forms of the dashboard's pages (login, Run now, Pause…) post urlencoded bodies.
  void app.register(formbody, { bodyLimit: 16_384 });
  const guard = installGuard(app, caretaker, opts.listener ?? 'socket', tls, {
    loginUrl: () => '/login',
    render: (status, message) => messagePage(TITLES[status] ?? 'Refused', message),
  });
  const route = router(app, guard);
  // Every answer carries the dashboard's policy: scripts and styles from this server only.
  // Text answers over 1 KB also go gzipped to a client that accepts it: one onSend hook, added
  // before the routes so that it applies to all of them (@fastify/compress, a plugin, would reach
  // only routes added after it loads). The live output's event stream is written raw.
  app.addHook('onSend', async (req, reply, payload) => {
    void reply.header('content-security-policy', CSP);
    void reply.header('x-content-type-options', 'nosniff');
    // A one-time login link in the address bar must not leave in a Referer to another site
    // (no-referrer would make Chromium send `Origin: null` with the pages' own forms).
    void reply.header('referrer-policy', 'same-origin');
    return gzipped(req, reply, payload);
  });

  app.setErrorHandler(async (error, req, reply) => {
    const err = error as Error & { statusCode?: number };
    const code = exitCodeOf(err);
    // Usage errors (unknown task) are the caller's; a busy task is a conflict; the rest is ours.
    const status =
      err instanceof HttpAnswer
        ? err.statusCode
        : code === 2
          ? (err.statusCode ?? 400)
          : err.name === 'TaskBusyError'
            ? 409
            : (err.statusCode ?? 500);
    const path = req.url.split('?')[0];
    if ((path === '/login' && req.method === 'POST' && isForm(req)) || path === '/login/once')
      return reply.code(status).type('text/html; charset=utf-8').send(loginPage(err.message));
    if (wantsPage(req))
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(
          messagePage(
            TITLES[status] ?? 'Something went wrong',
            status >= 500 ? `caretaker could not do this: ${err.message}` : err.message,
          ),
        );
    await reply.code(status).send({
      error: err.message,
      ...(err instanceof HttpAnswer ? {} : { name: err.name }),
      exitCode: code || (status >= 500 ? 1 : 2),
    });
  });

  // ---- reads (viewer) ---------------------------------------------------------------------

  route({ method: 'GET', url: '/healthz', role: 'viewer', public: true }, async () => ({ ok: true }));

  // Everything `caretaker status` shows, in one call: the CLI then needs no configuration of its own.
  route({ method: 'GET', url: '/v1/status', role: 'viewer' }, async () => {
    const engine = caretaker.engineStatus();
    return {
      version: VERSION,
      pid: process.pid,
      host: caretaker.config.host,
      config: caretaker.config.file,
      timezone: caretaker.config.timezone,
      startedAt: engine.startedAt,
      store: caretaker.storeStatus(),
      running: engine.running,
      queued: engine.queued,
      upcoming: engine.upcoming.slice(0, 20),
      lastFailures: await caretaker.history({ statuses: [...FAILURE_STATUSES], limit: 5 }),
      watches: await caretaker.watches(),
      openIncidents: await caretaker.incidents({ open: true, limit: 20 }),
      paused: await caretaker.pauses(),
      // The fleet is in the store: while it is unreachable (status says so) there is none to show.
      fleet:
        caretaker.config.store.kind === 'postgres'
          ? await caretaker.hosts().catch((err: Error) => {
              if (err.name === 'StoreUnavailableError') return null;
              throw err;
            })
          : null,
      // Tokens that stop working within 7 days: the warning users most asked for.
      expiringTokens: await (await caretaker.access()).expiringTokens().catch(() => []),
    };
  });

  // Prometheus scrapes this (docs/metrics.md); unauthenticated on TCP only with `metrics.public`.
  route(
    { method: 'GET', url: '/metrics', role: 'viewer', public: () => caretaker.config.metrics.public },
    async (_req, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(await caretaker.prometheusMetrics()),
  );

  route({ method: 'GET', url: '/v1/tasks', role: 'viewer' }, async () => caretaker.tasks());

  route<Params<'id'>>({ method: 'GET', url: '/v1/tasks/:id/priority', role: 'viewer' }, async (req) =>
    caretaker.priority(req.params.id),
  );

  // Pause and resume: kept in the store; `by` is who asked (the CLI sends its Unix user).
  route<{ Params: { id: string }; Body: { reason?: unknown; by?: unknown } | undefined }>(
    { method: 'POST', url: '/v1/tasks/:id/pause', role: 'operator', action: 'pause', target: param('id') },
    async (req) => {
      const body = req.body ?? {};
      // On TCP the pause is the token's, whatever the body says; the socket's caller names its user.
      const who = guard.actorOf(req);
      const named = optionalText(body.by, 'by');
      return caretaker.pauseTask(req.params.id, {
        reason: optionalText(body.reason, 'reason'),
        by: who && !who.trusted ? who.actor : (named ?? who?.actor),
      });
    },
  );
  route<Params<'id'>>(
    { method: 'POST', url: '/v1/tasks/:id/resume', role: 'operator', action: 'resume', target: param('id') },
    async (req) => caretaker.resumeTask(req.params.id),
  );
  route({ method: 'GET', url: '/v1/pauses', role: 'viewer' }, async () => caretaker.pauses());

  route<{ Querystring: { task?: string; limit?: string } }>(
    { method: 'GET', url: '/v1/runs', role: 'viewer' },
    async (req) =>
      caretaker.history({
        task: req.query.task,
        limit: Math.min(Number(req.query.limit ?? 20) || 20, 10_000),
      }),
  );

  route<Params<'id'> & { Querystring: { wait?: string } }>(
    { method: 'GET', url: '/v1/runs/:id', role: 'viewer' },
    async (req, reply) => {
      const id = runId(req.params.id);
      // The same answer for a run that does not exist, waiting or not.
      const run = await caretaker.getRun(id);
      if (!run) return reply.code(404).send({ error: `run #${id} does not exist`, exitCode: 2 });
      return req.query.wait ? caretaker.waitForRun(id) : run;
    },
  );

  route({ method: 'GET', url: '/v1/watches', role: 'viewer' }, async () => caretaker.watches());

  route<{ Querystring: { open?: string; limit?: string } }>(
    { method: 'GET', url: '/v1/incidents', role: 'viewer' },
    async (req) =>
      caretaker.incidents({
        open: req.query.open === undefined ? undefined : req.query.open !== '0' && req.query.open !== 'false',
        limit: Math.min(Number(req.query.limit ?? 100) || 100, 10_000),
      }),
  );

  route<{ Querystring: { days?: string } }>(
    { method: 'GET', url: '/v1/report', role: 'viewer' },
    async (req) => caretaker.summaryReport(Math.min(Math.max(Number(req.query.days ?? 7) || 7, 1), 3_650)),
  );

  // ---- changes (operator) -------------------------------------------------------------------

  route<
    Params<'id'> & {
      Body: { dryRun?: boolean; wait?: boolean; force?: boolean; retry?: boolean } | undefined;
    }
  >(
    { method: 'POST', url: '/v1/tasks/:id/runs', role: 'operator', action: 'run', target: param('id') },
    async (req, reply) => {
      const body = req.body ?? {};
      onlyFields(body, ['dryRun', 'wait', 'force', 'retry']);
      const run = await caretaker.runNow(req.params.id, {
        dryRun: body.dryRun,
        force: body.force,
        retry: body.retry,
        wait: false,
      });
      // Outside its window, a manual run starts anyway: the answer says so.
      const notice = await caretaker.manualRunNotice(req.params.id);
      const answer = body.wait ? await caretaker.waitForRun(run.id, { followRetries: true }) : run;
      return reply.code(body.wait ? 200 : 202).send(notice ? { ...answer, notice } : answer);
    },
  );

  route<Params<'id'>>(
    {
      method: 'POST',
      url: '/v1/runs/:id/cancel',
      role: 'operator',
      action: 'cancel',
      // A run belongs to a task: a token limited to some tasks cancels only their runs.
      target: async (req) => {
        const id = param('id')(req) ?? '';
        return /^[1-9]\d{0,15}$/.test(id) ? (await caretaker.getRun(Number(id)))?.task : undefined;
      },
    },
    async (req) => {
      const id = runId(req.params.id);
      const ok = await caretaker.cancel(id, 'cancelled through the API');
      if (!ok) throw new HttpAnswer(`run #${id} is not queued or running`, 404);
      return { cancelled: true, run: id };
    },
  );

  // Restore a rollback point: `caretaker rollback ID --reason TEXT` over HTTP. The target is the
  // point's task (a token limited to some tasks restores only theirs); a dry run changes nothing
  // and, as from the CLI, leaves no audit row; a restore's row names its run and reason.
  const restoreSpec = {
    method: 'POST',
    url: '/v1/rollbacks/:id/restore',
    role: 'operator',
    action: 'rollback',
    auditSuccess: false,
    target: async (req: FastifyRequest) => pointTask(caretaker, param('id')(req) ?? ''),
  } as const;
  route<Params<'id'> & { Body: { reason?: unknown; dryRun?: unknown } | undefined }>(
    restoreSpec,
    async (req) => {
      const body = req.body ?? {};
      onlyFields(body, ['reason', 'dryRun']);
      const reason = optionalText(body.reason, 'reason');
      if (reason === undefined || reason.trim() === '')
        throw new UsageError('reason: required, why the files are being restored (kept in history)');
      if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean')
        throw new UsageError(`dryRun: expected true or false, got ${JSON.stringify(body.dryRun)}`);
      let outcome;
      try {
        outcome = await caretaker.rollback(req.params.id, { reason, dryRun: body.dryRun });
      } catch (err) {
        // The task is running, or the point is damaged: the state refuses, not the request.
        if ((err as Error).name === 'TaskFailedError') throw new HttpAnswer((err as Error).message, 409, 1);
        throw err;
      }
      const { report, run } = outcome;
      if (run) await guard.audited(req, restoreSpec, 'ok', restoreDetail(report.point, run, reason));
      return { ...report, run };
    },
  );

  // Dead-man pings from jobs outside caretaker: POST /v1/pings/NAME (or /v1/pings/NAME/fail). The
  // pings table records each; the audit log only refusals and failures (a ping every few minutes
  // would drown it).
  const ping = async (name: string, fail: boolean, message: unknown) =>
    caretaker.ping(name, {
      ok: !fail,
      message: typeof message === 'string' ? message.slice(0, 1_000) : undefined,
      source: 'api',
    });
  const pingRoute = { role: 'operator', action: 'ping', target: param('name'), auditSuccess: false } as const;
  route<Params<'name'> & { Body: { fail?: boolean; message?: string } | undefined }>(
    { method: 'POST', url: '/v1/pings/:name', ...pingRoute },
    async (req) => ping(req.params.name, req.body?.fail === true, req.body?.message),
  );
  route<Params<'name'> & { Body: { message?: string } | undefined }>(
    { method: 'POST', url: '/v1/pings/:name/fail', ...pingRoute },
    async (req) => ping(req.params.name, true, req.body?.message),
  );

  // ---- browser sessions (the dashboard) ----------------------------------------------------

  // Log in with a token: a session cookie (HttpOnly, SameSite=Strict, Secure under TLS) and the
  // CSRF token every change made with it must send as X-CSRF-Token. Failed logins are limited
  // per client address (429). Served without a token: the token is in the body.
  route<{ Body: { token?: unknown } | undefined }>(
    { method: 'POST', url: '/login', role: 'viewer', public: true, action: 'login' },
    async (req, reply) => {
      if (!sameOrigin(req, tls, true))
        throw new HttpAnswer(
          `a login must come from this server's pages (Origin ${req.headers.origin})`,
          403,
        );
      const token = req.body?.token;
      if (typeof token !== 'string' || token === '')
        throw new UsageError(
          isForm(req)
            ? 'enter an access token (caretaker token create NAME)'
            : 'login expects a JSON body { "token": "ct_…" }',
        );
      const login = await (await caretaker.sessions()).login(token, req.ip);
      if (!login.ok) {
        actAs(req, login.actor);
        if (login.retryAfterS !== undefined) void reply.header('retry-after', String(login.retryAfterS));
        throw new HttpAnswer(login.reason, login.status);
      }
      actAs(req, login.principal);
      void reply.header('set-cookie', sessionCookie(login.id, login.maxAgeS, tls));
      // A page's login form goes on to the overview; an API client gets its CSRF token.
      if (isForm(req)) return reply.redirect('/', 303);
      return {
        actor: login.principal.actor,
        role: login.principal.role,
        csrf: login.csrf,
        expiresAt: login.expiresAt,
      };
    },
  );

  route(
    { method: 'POST', url: '/logout', role: 'viewer', action: 'logout', page: true },
    async (req, reply) => {
      const cookie = sessionCookieOf(req);
      const ended = cookie !== undefined && (await caretaker.sessions()).logout(cookie);
      void reply.header(
        'set-cookie',
        `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${tls ? '; Secure' : ''}`,
      );
      if (isForm(req)) return reply.redirect('/login', 303);
      return { loggedOut: ended };
    },
  );

  registerDashboard(route, caretaker, guard, { tls });

  // ---- the daemon and its tokens (admin) ----------------------------------------------------

  route({ method: 'POST', url: '/v1/reload', role: 'admin', action: 'reload' }, async () => {
    await opts.onReload?.();
    return { reloaded: true, tasks: caretaker.config.tasks.length };
  });

  route({ method: 'POST', url: '/v1/stop', role: 'admin', action: 'stop' }, async (_req, reply) => {
    await reply.send({ stopping: true });
    setImmediate(() => opts.onStop?.());
  });

  route({ method: 'GET', url: '/v1/tokens', role: 'admin' }, async () =>
    (await caretaker.access()).listTokens(),
  );

  route<{ Body: { name?: unknown; role?: unknown; expires?: unknown; tasks?: unknown } | undefined }>(
    {
      method: 'POST',
      url: '/v1/tokens',
      role: 'admin',
      action: 'token.create',
      target: (req) => {
        const name = (req.body as { name?: unknown } | undefined)?.name;
        return typeof name === 'string' ? name : undefined;
      },
    },
    async (req, reply) => {
      const b = req.body ?? {};
      const expires = typeof b.expires === 'string' ? parseDuration(b.expires) : undefined;
      if (b.expires !== undefined && expires === undefined)
        throw new UsageError(`expires expects a duration such as 30d, got ${JSON.stringify(b.expires)}`);
      const made = await (
        await caretaker.access()
      ).createToken({
        name: String(b.name ?? ''),
        role: String(b.role ?? ''),
        expiresInMs: expires ?? null,
        tasks: Array.isArray(b.tasks) ? b.tasks.map(String) : null,
      });
      return reply.code(201).send(made);
    },
  );

  route<Params<'name'>>(
    {
      method: 'POST',
      url: '/v1/tokens/:name/revoke',
      role: 'admin',
      action: 'token.revoke',
      target: param('name'),
    },
    async (req) => (await caretaker.access()).revokeToken(req.params.name),
  );

  route<{ Querystring: { since?: string; limit?: string } }>(
    { method: 'GET', url: '/v1/audit', role: 'admin' },
    async (req) => {
      const since = req.query.since === undefined ? undefined : parseDuration(req.query.since);
      if (req.query.since !== undefined && since === undefined)
        throw new UsageError(`since expects a duration such as 7d, got "${req.query.since}"`);
      return (await caretaker.access()).audit({
        since: since === undefined ? undefined : Date.now() - since,
        limit: Math.min(Number(req.query.limit ?? 1_000) || 1_000, 100_000),
      });
    },
  );

  return app;
}
