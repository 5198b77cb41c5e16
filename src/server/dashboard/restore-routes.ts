/**
 * Restoring a rollback point from the run page: the form's route (operator, CSRF like every
 * form) calls the facade's `rollback()` and sends the browser back to the run page with a notice
 * of the outcome. The notice travels as an opaque id, not as text in the address: a link that
 * anyone can craft must not be able to make the page say "restored" (or show an error) falsely.
 */
import { randomBytes } from 'node:crypto';
import type { Caretaker } from '../../caretaker.js';
import { restoreDetail } from '../../core/rollback-audit.js';
import { plural } from '../../core/plural.js';
import { NotFoundError, UsageError } from '../../errors/usage-error.js';
import type { Guard } from '../guard.js';
import type { router } from '../routes.js';
import type { RouteSpec } from '../route-access.js';

type Route = ReturnType<typeof router>;

export interface RestoreNotice {
  readonly ok: boolean;
  readonly text: string;
  /** The run that recorded the rollback. */
  readonly runId: number | null;
}

const NOTICE_TTL_MS = 10 * 60_000;
const NOTICES_KEPT = 200;

/**
 * The outcomes of restores, for the page the browser is sent back to: kept in memory for ten
 * minutes (a reload shows the notice again), at most 200, each readable only by who made it.
 */
export class RestoreNotices {
  readonly #kept = new Map<string, RestoreNotice & { actor: string; at: number }>();
  constructor(readonly now: () => number) {}

  put(actor: string, notice: RestoreNotice): string {
    const id = randomBytes(12).toString('base64url');
    this.#kept.set(id, { ...notice, actor, at: this.now() });
    for (const old of this.#kept.keys()) {
      if (this.#kept.size <= NOTICES_KEPT) break;
      this.#kept.delete(old);
    }
    return id;
  }

  get(id: string | undefined, actor: string): RestoreNotice | undefined {
    const n = id === undefined ? undefined : this.#kept.get(id);
    if (!n || n.actor !== actor || this.now() - n.at > NOTICE_TTL_MS) return undefined;
    return { ok: n.ok, text: n.text, runId: n.runId };
  }
}

function runIdOf(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text))
    throw new UsageError(`a run id is a whole number such as 42, got "${text}"`);
  return Number(text);
}

/** POST /runs/:id/restore (form: csrf, reason): restores the run's rollback point. */
export function registerRestoreForm(
  route: Route,
  caretaker: Caretaker,
  guard: Guard,
  notices: RestoreNotices,
): void {
  const spec: RouteSpec = {
    method: 'POST',
    url: '/runs/:id/restore',
    role: 'operator',
    action: 'rollback',
    page: true,
    // Written below, for failures too: the browser gets a 303 to the run page either way.
    auditSuccess: false,
    target: async (req) => {
      const id = (req.params as { id?: string }).id ?? '';
      return /^[1-9]\d{0,15}$/.test(id) ? (await caretaker.getRun(Number(id)))?.task : undefined;
    },
  };
  route<{ Params: { id: string }; Body: { reason?: unknown } | undefined }>(spec, async (req, reply) => {
    const id = runIdOf(req.params.id);
    const run = await caretaker.getRun(id);
    if (!run) throw new NotFoundError(`run #${id} does not exist`);
    const point = (await caretaker.listRollbacks({ task: run.task })).find((p) => p.runId === id);
    if (!point) throw new NotFoundError(`run #${id} has no rollback point`);
    const reason = typeof req.body?.reason === 'string' ? req.body.reason.trim() : '';
    const actor = guard.actorOf(req)?.actor ?? 'anonymous';
    const back = (notice: RestoreNotice) =>
      reply.redirect(`/runs/${id}?notice=${notices.put(actor, notice)}`, 303);
    if (!reason) {
      const line = 'Reason: required, why the files are being restored (kept in history)';
      await guard.audited(req, spec, 'failed', line);
      return back({ ok: false, text: line, runId: null });
    }
    try {
      const { report, run: recorded } = await caretaker.rollback(point.id, { reason });
      await guard.audited(req, spec, 'ok', restoreDetail(report.point, recorded, reason));
      const warnings = report.warnings.length
        ? ` ${plural(report.warnings.length, 'warning')}: ${report.warnings.join('; ')}`
        : '';
      return back({
        ok: true,
        text: `Restored ${point.id}: ${plural(report.restored.length, 'file')} put back, ${report.deleted.length} deleted, ${report.unchanged} unchanged.${warnings}`,
        runId: recorded?.id ?? null,
      });
    } catch (err) {
      // A usage or task error (the task is running, the point is damaged) is the operator's to
      // read; anything else is ours and goes to the error page, as with every other form.
      const code = (err as { exitCode?: number }).exitCode;
      if (code !== 1 && code !== 2) throw err;
      await guard.audited(req, spec, 'failed', (err as Error).message);
      return back({ ok: false, text: (err as Error).message, runId: null });
    }
  });
}
