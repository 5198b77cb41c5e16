/**
 * The dashboard's routes on the daemon's server: pages (viewer; Audit admin), the forms that
 * change something (operator; each a POST with the session's CSRF token, answered with a 303 to
 * the page that shows the outcome), live output as server-sent events, the static assets, and
 * the one-time login link of `caretaker dashboard`. Every page reads the facade's read models.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RUN_STATUSES, type Caretaker, type RunStatus, type RunTrigger } from '../../caretaker.js';
import { parseDuration } from '../../core/duration.js';
import { NotFoundError, UsageError } from '../../errors/usage-error.js';
import { actAs, type Guard } from '../guard.js';
import type { router } from '../routes.js';
import { dashboardAssets } from './assets.js';
import { loginPage, type PageContext } from './layout.js';
import {
  auditPage,
  backupsPage,
  dependenciesPage,
  healthPage,
  incidentsPage,
  timelinePage,
} from './more-pages.js';
import { overviewPage } from './overview-page.js';
import { RestoreNotices, registerRestoreForm } from './restore-routes.js';
import { runPage } from './run-page.js';
import { TRIGGERS, taskPage, type FilterText } from './task-page.js';
import { dayStart } from './time-text.js';

type Route = ReturnType<typeof router>;
type Req = FastifyRequest<{
  Params: Record<string, string>;
  Querystring: Record<string, string | undefined>;
}>;

/** The Content-Security-Policy of every answer: our own files only, no inline script or style. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const PAGE_SIZE = 50;
/** The most runs the timeline reads (the newest): a range with more says so. */
const TIMELINE_RUNS = 20_000;

function runIdOf(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text))
    throw new UsageError(`a run id is a whole number such as 42, got "${text}"`);
  return Number(text);
}

const sendPage = (reply: FastifyReply, page: string) => reply.type('text/html; charset=utf-8').send(page);

export function registerDashboard(
  route: Route,
  caretaker: Caretaker,
  guard: Guard,
  opts: { readonly tls: boolean },
): void {
  const ctxOf = (req: FastifyRequest): PageContext => {
    const s = guard.sessionOf(req);
    return {
      viewer: {
        actor: s?.principal.actor ?? 'anonymous',
        role: s?.principal.role ?? 'viewer',
        csrf: s?.csrf ?? '',
      },
      zone: caretaker.config.timezone,
      now: caretaker.now(),
    };
  };
  const page = (
    url: string,
    role: 'viewer' | 'admin',
    render: (req: Req, reply: FastifyReply) => Promise<string>,
  ) =>
    route<{ Params: Record<string, string>; Querystring: Record<string, string | undefined> }>(
      { method: 'GET', url, role, page: true },
      async (req, reply) => sendPage(reply, await render(req, reply)),
    );
  const taskTarget = (req: FastifyRequest) => (req.params as Record<string, string | undefined>).id;
  const notices = new RestoreNotices(() => caretaker.now());

  // ---- assets and login ----------------------------------------------------------------------

  route<{ Params: { name: string } }>(
    { method: 'GET', url: '/assets/:name', role: 'viewer', public: true },
    async (req, reply) => {
      const asset = dashboardAssets().get(req.params.name);
      if (!asset) return reply.code(404).type('text/plain').send('no such asset');
      if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply
        .type(asset.type)
        .header('etag', asset.etag)
        .header('cache-control', 'no-cache')
        .send(asset.body);
    },
  );

  route({ method: 'GET', url: '/login', role: 'viewer', public: true }, async (_req, reply) =>
    sendPage(reply, loginPage(null)),
  );

  // `caretaker dashboard`'s link: a one-time code (60 s) for the control socket's caller.
  route<{ Querystring: { code?: string } }>(
    { method: 'GET', url: '/login/once', role: 'viewer', public: true, action: 'login.once', page: true },
    async (req, reply) => {
      if (!req.query.code)
        throw new UsageError('this login link has no code: run caretaker dashboard for one');
      const login = (await caretaker.sessions()).redeemOnce(req.query.code, req.ip);
      // Thrown, for the audit row's reason; the error handler answers with the login page.
      if (!login.ok) throw Object.assign(new Error(login.reason), { statusCode: login.status });
      actAs(req, login.principal);
      return reply.header('set-cookie', sessionCookie(login.id, login.maxAgeS, opts.tls)).redirect('/', 303);
    },
  );

  route(
    { method: 'POST', url: '/v1/dashboard/link', role: 'admin', action: 'dashboard.link' },
    async (req) => {
      // Only the control socket's caller: a session from a code holds its principal without a
      // token to check again, so a TCP token (which may be revoked later) may not mint one.
      if (!guard.actorOf(req)?.trusted)
        throw new UsageError(
          'a one-time login link is made over the control socket only: run caretaker dashboard on the host',
        );
      const who = guard.sessionOf(req)!.principal;
      const { code, expiresAt } = (await caretaker.sessions()).mintOnce(who);
      return { path: `/login/once?code=${code}`, expiresAt };
    },
  );

  // ---- pages ---------------------------------------------------------------------------------

  page('/', 'viewer', async (req) => {
    const host = req.query.host || undefined;
    const [tasks, metrics, incidents, recent] = await Promise.all([
      caretaker.tasks(),
      caretaker.metrics(7),
      caretaker.incidents({ open: true, limit: 20 }),
      // Every task's last 30 runs in one store query, not one query per task.
      caretaker.lastRuns({ tasks: caretaker.config.tasks.map((t) => t.id), limit: 30, host }),
    ]);
    const engine = caretaker.engineStatus();
    const hosts = caretaker.config.store.kind === 'postgres' ? await caretaker.hosts().catch(() => []) : [];
    return overviewPage(ctxOf(req), {
      tasks,
      successRate: new Map(metrics.tasks.map((m) => [m.task, m.successRate])),
      recent,
      incidents,
      running: engine.running,
      startedAt: engine.startedAt,
      lastPassAt: engine.lastPassAt,
      store: caretaker.storeStatus(),
      hosts,
    });
  });

  page('/tasks/:id', 'viewer', async (req) => {
    const view = await caretaker.taskView(req.params.id!);
    if (!view) throw new NotFoundError(`there is no task "${req.params.id}" in ${caretaker.config.file}`);
    const q = req.query;
    const filter: FilterText = {
      status: q.status,
      trigger: q.trigger,
      host: q.host,
      from: q.from,
      to: q.to,
      before: q.before,
    };
    if (q.status && !(RUN_STATUSES as readonly string[]).includes(q.status))
      throw new UsageError(`status: expected one of ${RUN_STATUSES.join(', ')}, got "${q.status}"`);
    if (q.trigger && !(TRIGGERS as readonly string[]).includes(q.trigger))
      throw new UsageError(`trigger: expected one of ${TRIGGERS.join(', ')}, got "${q.trigger}"`);
    const zone = caretaker.config.timezone;
    const day = (key: 'from' | 'to') => {
      const text = q[key];
      if (!text) return undefined;
      const t = dayStart(text, zone);
      if (t === undefined) throw new UsageError(`${key}: expected a date such as 2026-11-24, got "${text}"`);
      return key === 'to'
        ? (dayStart(new Date(Date.parse(text) + 86_400_000).toISOString().slice(0, 10), zone) ?? t)
        : t;
    };
    const [paused, priority, days, recent, history] = await Promise.all([
      // One task's pause, not every task's summary (tasks() reads the state of all of them).
      caretaker.pauses().then((all) => all.find((p) => p.task === view.task.id) ?? null),
      caretaker.priority(view.task.id).catch(() => null),
      caretaker.taskDays(view.task.id, 30),
      caretaker.history({ task: view.task.id, limit: 100 }),
      caretaker.historyPage({
        task: view.task.id,
        statuses: q.status ? [q.status as RunStatus] : undefined,
        trigger: (q.trigger || undefined) as RunTrigger | undefined,
        host: q.host || undefined,
        since: day('from'),
        until: day('to'),
        beforeId: q.before ? runIdOf(q.before) : undefined,
        limit: PAGE_SIZE,
      }),
    ]);
    return taskPage(ctxOf(req), {
      ...view,
      paused,
      // Executions only: a dry run or a rollback record is not the task's last result.
      lastStatus:
        recent.find(
          (r) => !r.dryRun && r.finishedAt !== null && r.trigger !== 'rollback' && r.trigger !== 'restore',
        )?.status ?? null,
      priority,
      days,
      recent,
      page: history,
      filter,
      running: caretaker.engineStatus().running.some((r) => r.task === view.task.id),
    });
  });

  page('/runs/:id', 'viewer', async (req) => {
    const id = runIdOf(req.params.id!);
    const run = await caretaker.getRun(id);
    if (!run) throw new NotFoundError(`run #${id} does not exist`);
    const probe = run.status === 'running' ? caretaker.followOutput(id, 0, () => {}) : null;
    probe?.stop();
    const [attempts, points] = await Promise.all([
      run.scheduledFor === null
        ? Promise.resolve([run])
        : caretaker
            .history({ task: run.task, limit: 20 })
            .then((rs) => rs.filter((r) => r.scheduledFor === run.scheduledFor).reverse()),
      caretaker.listRollbacks({ task: run.task }).catch(() => []),
    ]);
    return runPage(ctxOf(req), {
      run,
      attempts,
      rollback: points.find((p) => p.runId === id),
      live: probe !== null && !probe.finished,
      notice: notices.get(req.query.notice, guard.actorOf(req)?.actor ?? 'anonymous'),
    });
  });

  // Live output: server-sent events whose ids are byte offsets; a reconnect resumes from
  // Last-Event-ID. Ends with an `end` event when the run finishes (or is not running here).
  route<{ Params: { id: string }; Querystring: { from?: string } }>(
    { method: 'GET', url: '/runs/:id/events', role: 'viewer', page: true },
    async (req, reply) => {
      const id = runIdOf(req.params.id);
      const last = [req.headers['last-event-id']].flat()[0] ?? req.query.from ?? '0';
      const offset = /^\d{1,15}$/.test(last) ? Number(last) : 0;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': CSP,
      });
      const send = (event: string, data: string, eventId?: number) =>
        res.write(`${eventId === undefined ? '' : `id: ${eventId}\n`}event: ${event}\ndata: ${data}\n\n`);
      const end = () => {
        send('end', '{}');
        res.end();
      };
      const f = caretaker.followOutput(id, offset, (e) => {
        if (e.kind === 'output') send('output', JSON.stringify(e.chunk.text), e.chunk.to);
        else end();
      });
      if (!f) return end();
      if (f.backlog) send('output', JSON.stringify(f.backlog.text), f.backlog.to);
      if (f.finished) return end();
      req.raw.on('close', f.stop);
    },
  );

  page('/timeline', 'viewer', async (req) => {
    const hours = Number(req.query.hours ?? 24);
    if (![6, 24, 72, 168].includes(hours))
      throw new UsageError(`hours: expected 6, 24, 72 or 168, got "${req.query.hours}"`);
    const to = caretaker.now();
    const from = to - hours * 3_600_000;
    const page = await caretaker.historyPage({ since: from - 6 * 3_600_000, limit: TIMELINE_RUNS });
    const runs = page.runs.filter((r) => r.startedAt !== null && (r.finishedAt ?? to) >= from);
    return timelinePage(ctxOf(req), {
      tasks: caretaker.config.tasks.map((t) => t.id),
      runs,
      from,
      to,
      hours,
      truncated: page.nextBeforeId !== null,
    });
  });

  page('/dependencies', 'viewer', async (req) => {
    const deps = new Map(caretaker.config.tasks.map((t) => [t.id, t.dependsOn]));
    const tasks = (await caretaker.tasks()).map((t) => ({ ...t, dependsOn: deps.get(t.id) ?? [] }));
    return dependenciesPage(ctxOf(req), tasks);
  });

  page('/incidents', 'viewer', async (req) => {
    const open = req.query.open === undefined ? undefined : req.query.open !== '0';
    const [incidents, deliveries] = await Promise.all([
      caretaker.incidents({ open, limit: 200 }),
      caretaker.deliveries({ limit: 1_000 }),
    ]);
    return incidentsPage(ctxOf(req), { incidents, deliveries, open });
  });

  // The last finished run of each backup task and of the verification: a few rows each, not a
  // scan of every run (the summary report reads all runs of its window).
  const lastFinished = async (task: string) =>
    (await caretaker.history({ task, limit: 20 })).find((r) => r.finishedAt !== null && !r.dryRun);
  const isoOf = (t: number | null | undefined) =>
    t === null || t === undefined ? null : new Date(t).toISOString();
  page('/backups', 'viewer', async (req) => {
    const tasks = caretaker.config.tasks;
    const verifies = await Promise.all(
      tasks.filter((t) => t.action === 'verify-backups').map((t) => lastFinished(t.id)),
    );
    const verify = verifies.filter((r) => r !== undefined).sort((a, b) => b.finishedAt! - a.finishedAt!)[0];
    const backups = await Promise.all(
      tasks
        .filter((t) => t.action === 'backup')
        .map(async (t) => {
          const last = await lastFinished(t.id);
          return {
            task: t.id,
            action: t.action,
            lastRunAt: isoOf(last?.finishedAt),
            lastStatus: last?.status ?? null,
            summary: last?.result?.summary ?? last?.reason ?? null,
            verifiedAt: isoOf(verify?.finishedAt),
            verifyStatus: verify?.status ?? null,
          };
        }),
    );
    return backupsPage(ctxOf(req), { days: 30, backups });
  });

  page('/health', 'viewer', async (req) => {
    const ids = await caretaker.healthTasks();
    const last = await Promise.all(
      ids.map(async (id) =>
        (await caretaker.history({ task: id, limit: 5 })).find((r) => r.finishedAt !== null),
      ),
    );
    const report = await caretaker.healthReport(last.filter((r) => r !== undefined));
    // The disk forecasts come with the health runs themselves (no scan of the history).
    return healthPage(ctxOf(req), { report, forecasts: report.runs.flatMap((r) => r.forecasts) });
  });

  page('/audit', 'admin', async (req) => {
    const since = req.query.since ?? '7d';
    const ms = parseDuration(since);
    if (ms === undefined) throw new UsageError(`since: expected a duration such as 7d, got "${since}"`);
    const rows = await (await caretaker.access()).audit({ since: caretaker.now() - ms, limit: 500 });
    return auditPage(ctxOf(req), rows, since);
  });

  // ---- forms (operator) ----------------------------------------------------------------------

  const form = (url: string, action: string, handle: (req: Req) => Promise<string>) =>
    route<{ Params: Record<string, string>; Querystring: Record<string, string | undefined> }>(
      { method: 'POST', url, role: 'operator', action, target: taskTarget, page: true },
      async (req, reply) => reply.redirect(await handle(req), 303),
    );
  const runForm = (dryRun: boolean) => async (req: Req) => {
    const run = await caretaker.runNow(req.params.id!, { dryRun, wait: false });
    return `/runs/${run.id}`;
  };
  form('/tasks/:id/run', 'run', runForm(false));
  form('/tasks/:id/dry-run', 'run', runForm(true));
  form('/tasks/:id/pause', 'pause', async (req) => {
    await caretaker.pauseTask(req.params.id!, {
      by: guard.actorOf(req)?.actor,
      reason: 'paused from the dashboard',
    });
    return `/tasks/${encodeURIComponent(req.params.id!)}`;
  });
  form('/tasks/:id/resume', 'resume', async (req) => {
    await caretaker.resumeTask(req.params.id!);
    return `/tasks/${encodeURIComponent(req.params.id!)}`;
  });
  registerRestoreForm(route, caretaker, guard, notices);
  route<{ Params: { id: string } }>(
    {
      method: 'POST',
      url: '/runs/:id/cancel',
      role: 'operator',
      action: 'cancel',
      page: true,
      target: async (req) => {
        const id = (req.params as { id?: string }).id ?? '';
        return /^[1-9]\d{0,15}$/.test(id) ? (await caretaker.getRun(Number(id)))?.task : undefined;
      },
    },
    async (req, reply) => {
      const id = runIdOf(req.params.id);
      if (
        !(await caretaker.cancel(
          id,
          `cancelled from the dashboard by ${guard.actorOf(req)?.actor ?? 'someone'}`,
        ))
      )
        throw new UsageError(`run #${id} is not queued or running`);
      return reply.redirect(`/runs/${id}`, 303);
    },
  );
}

/** The session cookie (HttpOnly, SameSite=Strict, Secure under TLS). */
export function sessionCookie(id: string, maxAgeS: number, tls: boolean): string {
  return `ct_session=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${tls ? '; Secure' : ''}`;
}
