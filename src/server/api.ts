/**
 * The daemon's HTTP API. Served on the control socket (filesystem permissions guard it) and,
 * when `server.listen` is set, on TCP, where every mutating endpoint needs the bearer token.
 * Thin: every route is one call into the facade.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Caretaker } from '../caretaker.js';
import { VERSION } from '../version.js';

export interface ApiOptions {
  /** When set, POST/PUT/DELETE need `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Called by POST /v1/stop after the reply is sent. */
  readonly onStop?: () => void;
  readonly onReload?: () => Promise<void>;
}

function exitCodeOf(err: unknown): number {
  return (err as { exitCode?: number }).exitCode ?? 0;
}

export function buildApi(caretaker: Caretaker, opts: ApiOptions = {}): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });

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

  app.get('/v1/status', async () => {
    const engine = caretaker.engine;
    return {
      version: VERSION,
      pid: process.pid,
      host: caretaker.config.host,
      config: caretaker.config.file,
      startedAt: engine.startedAt,
      running: engine.running(),
      queued: engine.queued(),
      upcoming: engine.upcoming().slice(0, 20),
    };
  });

  app.get('/v1/tasks', async () => caretaker.tasks());

  app.get<{ Params: { id: string } }>('/v1/tasks/:id/priority', async (req) =>
    caretaker.priority(req.params.id),
  );

  app.post<{ Params: { id: string }; Body: { dryRun?: boolean; wait?: boolean } | undefined }>(
    '/v1/tasks/:id/runs',
    async (req, reply) => {
      const body = req.body ?? {};
      const run = await caretaker.runNow(req.params.id, { dryRun: body.dryRun, wait: false });
      if (!body.wait) return reply.code(202).send(run);
      return caretaker.waitForRun(run.id);
    },
  );

  app.get<{ Querystring: { task?: string; limit?: string } }>('/v1/runs', async (req) =>
    caretaker.history({ task: req.query.task, limit: Math.min(Number(req.query.limit ?? 20) || 20, 10_000) }),
  );

  app.get<{ Params: { id: string }; Querystring: { wait?: string } }>('/v1/runs/:id', async (req, reply) => {
    const id = Number(req.params.id);
    if (req.query.wait) return caretaker.waitForRun(id);
    const run = await caretaker.store.getRun(id);
    return run ?? reply.code(404).send({ error: `run #${id} does not exist` });
  });

  app.post<{ Params: { id: string } }>('/v1/runs/:id/cancel', async (req, reply) => {
    const ok = await caretaker.engine.cancel(Number(req.params.id), 'cancelled through the API');
    return ok
      ? { cancelled: true }
      : reply.code(404).send({ error: `run #${req.params.id} is not queued or running` });
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
