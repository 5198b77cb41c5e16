/**
 * The daemon's HTTP API. Served on the control socket (filesystem permissions guard it) and,
 * when `server.listen` is set, on TCP, where every mutating endpoint needs the bearer token.
 * Thin: every route is one call into the facade.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FAILURE_STATUSES, type Caretaker } from '../caretaker.js';
import { UsageError } from '../errors/usage-error.js';
import { VERSION } from '../version.js';

export interface ApiOptions {
  /** When set, POST/PUT/DELETE need `Authorization: Bearer <token>`. */
  readonly token?: string;
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

/** A field of a request body that, when given, is a string. */
function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new UsageError(`${field}: expected a string, got ${typeof value}`);
  return value;
}

function exitCodeOf(err: unknown): number {
  return (err as { exitCode?: number }).exitCode ?? 0;
}

/** The routes declare no schemas; one that did would be a mistake to hear about at once. */
function noSchemaCompiler(): never {
  throw new Error('the caretaker API routes declare no schemas');
}

export function buildApi(caretaker: Caretaker, opts: ApiOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    // Without compilers of our own, fastify loads ajv and fast-json-stringify (about 110 modules,
    // 3 MB of an idle daemon's heap) to compile schemas no route has.
    schemaController: {
      compilersFactory: { buildValidator: () => noSchemaCompiler, buildSerializer: () => noSchemaCompiler },
    },
  });

  if (opts.token !== undefined) {
    const expected = Buffer.from(`Bearer ${opts.token}`);
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (req.method === 'GET' || req.method === 'HEAD') return;
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        await reply.code(401).send({ error: 'a valid bearer token is required for this endpoint' });
      }
    });
  }

  app.setErrorHandler(async (error, _req, reply) => {
    const err = error as Error & { statusCode?: number };
    const code = exitCodeOf(err);
    // Usage errors (unknown task) are the caller's; a busy task is a conflict; the rest is ours.
    const status = code === 2 ? 400 : err.name === 'TaskBusyError' ? 409 : (err.statusCode ?? 500);
    await reply
      .code(status)
      .send({ error: err.message, name: err.name, exitCode: code || (status >= 500 ? 1 : 2) });
  });

  app.get('/healthz', async () => ({ ok: true }));

  // Everything `caretaker status` shows, in one call: the CLI then needs no configuration of its own.
  app.get('/v1/status', async () => {
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
    };
  });

  app.get('/v1/tasks', async () => caretaker.tasks());

  app.get<{ Params: { id: string } }>('/v1/tasks/:id/priority', async (req) =>
    caretaker.priority(req.params.id),
  );

  app.post<{
    Params: { id: string };
    Body: { dryRun?: boolean; wait?: boolean; force?: boolean; retry?: boolean } | undefined;
  }>('/v1/tasks/:id/runs', async (req, reply) => {
    const body = req.body ?? {};
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
  });

  // Pause and resume: kept in the store; `by` is who asked (the CLI sends its Unix user).
  app.post<{ Params: { id: string }; Body: { reason?: unknown; by?: unknown } | undefined }>(
    '/v1/tasks/:id/pause',
    async (req) => {
      const body = req.body ?? {};
      return caretaker.pauseTask(req.params.id, {
        reason: optionalText(body.reason, 'reason'),
        by: optionalText(body.by, 'by'),
      });
    },
  );
  app.post<{ Params: { id: string } }>('/v1/tasks/:id/resume', async (req) =>
    caretaker.resumeTask(req.params.id),
  );
  app.get('/v1/pauses', async () => caretaker.pauses());

  app.get<{ Querystring: { task?: string; limit?: string } }>('/v1/runs', async (req) =>
    caretaker.history({ task: req.query.task, limit: Math.min(Number(req.query.limit ?? 20) || 20, 10_000) }),
  );

  app.get<{ Params: { id: string }; Querystring: { wait?: string } }>('/v1/runs/:id', async (req, reply) => {
    const id = runId(req.params.id);
    // The same answer for a run that does not exist, waiting or not.
    const run = await caretaker.getRun(id);
    if (!run) return reply.code(404).send({ error: `run #${id} does not exist`, exitCode: 2 });
    return req.query.wait ? caretaker.waitForRun(id) : run;
  });

  app.post<{ Params: { id: string } }>('/v1/runs/:id/cancel', async (req, reply) => {
    const id = runId(req.params.id);
    const ok = await caretaker.cancel(id, 'cancelled through the API');
    return ok
      ? { cancelled: true }
      : reply.code(404).send({ error: `run #${id} is not queued or running`, exitCode: 2 });
  });

  // Dead-man pings from jobs outside caretaker: POST /v1/pings/NAME (or /v1/pings/NAME/fail).
  const ping = async (name: string, fail: boolean, message: unknown) =>
    caretaker.ping(name, {
      ok: !fail,
      message: typeof message === 'string' ? message.slice(0, 1_000) : undefined,
      source: 'api',
    });
  app.post<{ Params: { name: string }; Body: { fail?: boolean; message?: string } | undefined }>(
    '/v1/pings/:name',
    async (req) => ping(req.params.name, req.body?.fail === true, req.body?.message),
  );
  app.post<{ Params: { name: string }; Body: { message?: string } | undefined }>(
    '/v1/pings/:name/fail',
    async (req) => ping(req.params.name, true, req.body?.message),
  );

  app.get('/v1/watches', async () => caretaker.watches());

  app.get<{ Querystring: { open?: string; limit?: string } }>('/v1/incidents', async (req) =>
    caretaker.incidents({
      open: req.query.open === undefined ? undefined : req.query.open !== '0' && req.query.open !== 'false',
      limit: Math.min(Number(req.query.limit ?? 100) || 100, 10_000),
    }),
  );

  app.get<{ Querystring: { days?: string } }>('/v1/report', async (req) =>
    caretaker.summaryReport(Math.min(Math.max(Number(req.query.days ?? 7) || 7, 1), 3_650)),
  );

  app.post('/v1/reload', async () => {
    await opts.onReload?.();
    return { reloaded: true, tasks: caretaker.config.tasks.length };
  });

  app.post('/v1/stop', async (_req, reply) => {
    await reply.send({ stopping: true });
    setImmediate(() => opts.onStop?.());
  });

  return app;
}
