/** Timeline, dependencies, incidents, backups, health and audit. */
import type {
  AuditRecord,
  DeliveryRecord,
  HealthReport,
  IncidentRecord,
  RunRecord,
  SummaryReport,
  TaskSummary,
} from '../../caretaker.js';
import { formatSize } from '../../core/size.js';
import { html } from './html.js';
import { badge, layout, statusBadge, timeTag, type PageContext } from './layout.js';
import { dependencySvg, timelineSvg } from './svg.js';

const iso = (s: string | null) => (s === null ? null : Date.parse(s));

export function timelinePage(
  ctx: PageContext,
  d: {
    tasks: readonly string[];
    runs: readonly RunRecord[];
    from: number;
    to: number;
    hours: number;
    truncated: boolean;
  },
): string {
  const bars = d.runs
    .filter((r) => r.startedAt !== null)
    .map((r) => ({
      task: r.task,
      runId: r.id,
      from: r.startedAt!,
      to: r.finishedAt ?? ctx.now,
      status: r.status,
    }));
  const shown = d.tasks.filter((t) => bars.some((b) => b.task === t));
  const body = html`<form method="get" action="/timeline" class="filters" aria-label="Range">
      <label for="hours"
        >Hours back<select id="hours" name="hours">
          ${[6, 24, 72, 168].map((h) => html`<option value="${h}" ${h === d.hours ? html` selected` : ''}>${h} h</option>`)}
        </select></label
      >
      <button type="submit">Show</button>
    </form>
    <p class="muted">
      ${bars.length} runs of ${shown.length} tasks, from ${timeTag(d.from, ctx.zone)} to
      ${timeTag(d.to, ctx.zone)}. Each bar links to its run (runs closer than a pixel share a bar, linked to
      the task's history).
      ${d.truncated ? html`<strong>Only the newest ${bars.length} runs are drawn: choose a shorter range to see all.</strong>` : ''}
    </p>
    <div class="panel scroll">
      ${shown.length ? timelineSvg(shown, bars, d.from, d.to, ctx.zone) : html`<p class="muted">No runs in this range.</p>`}
    </div>`;
  return layout(ctx, { title: 'Timeline', active: '/timeline', body });
}

export function dependenciesPage(
  ctx: PageContext,
  tasks: readonly (TaskSummary & { dependsOn: readonly string[] })[],
): string {
  const linked = tasks.filter((t) => t.dependsOn.length > 0 || tasks.some((o) => o.dependsOn.includes(t.id)));
  const body = linked.length
    ? html`<p class="muted">
          An arrow goes from a task to the tasks that wait for it; each box has the task's last status and
          links to it.
        </p>
        <div class="panel scroll">
          ${dependencySvg(linked.map((t) => ({ id: t.id, dependsOn: t.dependsOn, status: t.lastStatus })))}
        </div>
        <h2>As a list</h2>
        <ul>
          ${linked.filter((t) => t.dependsOn.length).map((t) => html`<li><a href="/tasks/${encodeURIComponent(t.id)}">${t.id}</a> runs after ${t.dependsOn.join(', ')}</li>`)}
        </ul>`
    : html`<p class="muted">No task has depends_on: there is no graph to draw.</p>`;
  return layout(ctx, { title: 'Dependencies', active: '/dependencies', body });
}

export function incidentsPage(
  ctx: PageContext,
  d: {
    incidents: readonly IncidentRecord[];
    deliveries: readonly DeliveryRecord[];
    open: boolean | undefined;
  },
): string {
  const { zone } = ctx;
  const by = new Map<number, DeliveryRecord[]>();
  for (const x of d.deliveries)
    if (x.incidentId !== null) (by.get(x.incidentId) ?? by.set(x.incidentId, []).get(x.incidentId)!).push(x);
  const tab = (label: string, q: string, on: boolean) =>
    html`<a href="/incidents${q}" ${on ? html` aria-current="page"` : ''}>${label}</a>`;
  const body = html`<p>
      ${tab('All', '', d.open === undefined)} · ${tab('Open', '?open=1', d.open === true)} ·
      ${tab('Closed', '?open=0', d.open === false)}
    </p>
    ${d.incidents.length === 0 ? html`<p class="muted">No incidents.</p>` : ''}
    ${d.incidents.map((i) => {
      const dels = by.get(i.id) ?? [];
      return html`<section
        class="panel${i.closedAt === null ? ' incident' : ''}"
        aria-label="Incident ${i.id}"
      >
        <p>
          <span class="badge s-${i.level}">${i.level}</span> <b>${i.subjectKind} ${i.subjectId}</b> ·
          ${i.event} · ${i.closedAt === null ? html`<b>open</b>` : html`closed ${timeTag(i.closedAt, zone)}`}
        </p>
        <p>${i.message}</p>
        <p class="muted">
          opened ${timeTag(i.openedAt, zone)} · last seen ${timeTag(i.lastSeenAt, zone)} · ${i.occurrences}
          occurrences · ${i.notifications} notifications
        </p>
        ${
          dels.length
            ? html`<table>
                <thead>
                  <tr>
                    <th scope="col">Channel</th>
                    <th scope="col">Event</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">When</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  ${dels.map(
                    (x) =>
                      html`<tr>
                        <td>${x.channel}</td>
                        <td>${x.event}</td>
                        <td>
                          ${badge(x.status, x.status === 'sent' ? 'success' : x.status === 'failed' ? 'failed' : 'skipped')}
                        </td>
                        <td class="num">${x.attempts}</td>
                        <td>${timeTag(x.finishedAt ?? x.createdAt, zone)}</td>
                        <td>${x.error ?? ''}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
            : html`<p class="muted">No deliveries.</p>`
        }
      </section>`;
    })}`;
  return layout(ctx, { title: 'Incidents', active: '/incidents', body });
}

export function backupsPage(
  ctx: PageContext,
  s: { readonly days: number; readonly backups: SummaryReport['backups'] },
): string {
  const { zone } = ctx;
  const body = s.backups.length
    ? html`<table>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Last archive</th>
              <th scope="col">Status</th>
              <th scope="col">Summary</th>
              <th scope="col">Last verified</th>
              <th scope="col">Verify</th>
            </tr>
          </thead>
          <tbody>
            ${s.backups.map(
              (b) =>
                html`<tr>
                  <td><a href="/tasks/${encodeURIComponent(b.task)}">${b.task}</a></td>
                  <td>${timeTag(iso(b.lastRunAt), zone)}</td>
                  <td>${statusBadge(b.lastStatus)}</td>
                  <td>${b.summary ?? ''}</td>
                  <td>${timeTag(iso(b.verifiedAt), zone)}</td>
                  <td>${statusBadge(b.verifyStatus)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <p class="muted">
          The last archive of each backup task and the last verification. Every archive with its size:
          <code>caretaker backup list</code>; a restore drill:
          <code>caretaker backup restore ARCHIVE --to DIR</code>.
        </p>`
    : html`<p class="muted">No task uses the backup action.</p>`;
  return layout(ctx, { title: 'Backups', active: '/backups', body });
}

export function healthPage(
  ctx: PageContext,
  d: { report: HealthReport; forecasts: SummaryReport['diskForecast'] },
): string {
  const { zone } = ctx;
  const r = d.report;
  const forecasts = d.forecasts.length
    ? html`<h2>Disk forecast</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Path</th>
              <th scope="col">Used</th>
              <th scope="col">Growth per day</th>
              <th scope="col">Full</th>
            </tr>
          </thead>
          <tbody>
            ${d.forecasts.map((f) => {
              const used = f.capacityBytes ? f.usedBytes / f.capacityBytes : 0;
              return html`<tr>
                <td>${f.check}</td>
                <td><code>${f.path}</code></td>
                <td>
                  <svg width="120" height="12" role="img" aria-label="${Math.round(used * 100)}% used">
                    <rect width="120" height="12" rx="3" class="node" />
                    <rect
                      width="${Math.round(used * 120)}"
                      height="12"
                      rx="3"
                      class="bar${used > 0.9 ? ' s-failed' : ''}"
                    />
                  </svg>
                  ${formatSize(f.usedBytes)} of ${formatSize(f.capacityBytes)}
                </td>
                <td class="num">
                  ${f.perDay === null ? '—' : `${formatSize(Math.abs(f.perDay))}${f.perDay < 0 ? ' less' : ''}`}
                </td>
                <td>
                  ${f.fullAt ? html`${timeTag(Date.parse(f.fullAt), zone)} (${Math.round(f.daysLeft ?? 0)} days)` : 'not in sight'}
                </td>
              </tr>`;
            })}
          </tbody>
        </table>`
    : '';
  const body = html`<p>
      Overall ${badge(r.status, r.status === 'ok' ? 'success' : r.status === 'warn' ? 'warning' : 'failed')} ·
      ${r.counts.ok} ok, ${r.counts.warn} warn, ${r.counts.fail} fail, ${r.counts.skipped} skipped, from the
      last run of each health task.
    </p>
    ${r.runs.length === 0 ? html`<p class="muted">No health task has run yet.</p>` : ''}
    ${r.runs.map(
      (run) =>
        html`<h2>
            <a href="/tasks/${encodeURIComponent(run.task)}">${run.task}</a>
            <span class="muted"
              >run <a href="/runs/${run.runId}">#${run.runId}</a> ${timeTag(iso(run.startedAt), zone)}</span
            >
          </h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Check</th>
                <th scope="col">Status</th>
                <th scope="col">Value</th>
                <th scope="col">Thresholds</th>
                <th scope="col">Trend</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              ${run.checks.map(
                (c) =>
                  html`<tr>
                    <td>${c.name === c.kind ? c.kind : `${c.kind} ${c.name}`}${c.suffix ?? ''}</td>
                    <td>
                      ${badge(c.status, c.status === 'ok' ? 'success' : c.status === 'warn' ? 'warning' : c.status === 'fail' ? 'failed' : 'skipped')}
                    </td>
                    <td class="num">
                      ${c.value === null ? '—' : String(c.value)}${c.unit ? ` ${c.unit}` : ''}
                    </td>
                    <td>${c.thresholds ?? ''}</td>
                    <td>
                      ${
                        Object.values(c.trends ?? {})
                          .filter((x) => x !== 'n/a')
                          .join(', ') || '—'
                      }
                    </td>
                    <td>${c.message}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`,
    )}
    ${forecasts}`;
  return layout(ctx, { title: 'Health', active: '/health', body });
}

export function auditPage(ctx: PageContext, rows: readonly AuditRecord[], since: string): string {
  const { zone } = ctx;
  const body = html`<form method="get" action="/audit" class="filters" aria-label="Range">
      <label for="since"
        >Since<select id="since" name="since">
          ${['1d', '7d', '30d', '90d'].map((s) => html`<option value="${s}" ${s === since ? html` selected` : ''}>${s}</option>`)}
        </select></label
      ><button type="submit">Show</button>
    </form>
    <table>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">From</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">Outcome</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (a) =>
            html`<tr>
              <td>${timeTag(a.at, zone)}</td>
              <td>${a.actor}</td>
              <td>${a.source}</td>
              <td>${a.action}</td>
              <td>${a.target ?? ''}</td>
              <td>
                ${badge(a.outcome, a.outcome === 'ok' ? 'success' : a.outcome === 'refused' ? 'warning' : 'failed')}
              </td>
              <td>${a.detail ?? ''}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${rows.length === 0 ? html`<p class="muted">Nothing audited in this range.</p>` : ''}`;
  return layout(ctx, { title: 'Audit', active: '/audit', body });
}
