/** The overview: open incidents on top, the daemon's heartbeat, every task, the hosts of a fleet. */
import type { HostSummary, IncidentRecord, RunBrief, RunRecord, TaskSummary } from '../../caretaker.js';
import { html } from './html.js';
import { layout, statusBadge, timeTag, type PageContext } from './layout.js';
import { sparkline } from './svg.js';
import { durationText, relativeText, scheduleText } from './time-text.js';

export interface OverviewData {
  readonly tasks: readonly TaskSummary[];
  /** 7-day success rate per task (0-1), absent without runs. */
  readonly successRate: ReadonlyMap<string, number | null>;
  /** The last runs per task, newest first. */
  readonly recent: ReadonlyMap<string, readonly RunBrief[]>;
  readonly incidents: readonly IncidentRecord[];
  readonly running: readonly RunRecord[];
  readonly startedAt: number | null;
  readonly lastPassAt: number | null;
  readonly store: { readonly reachable: boolean; readonly waiting: number };
  readonly hosts: readonly HostSummary[];
}

const pct = (r: number | null | undefined) =>
  r === null || r === undefined ? '—' : `${Math.round(r * 100)}%`;

export function overviewPage(ctx: PageContext, d: OverviewData): string {
  const { zone, now } = ctx;
  const incidents = d.incidents.length
    ? html`<section aria-labelledby="inc-h">
        <h2 id="inc-h">Open incidents (${d.incidents.length})</h2>
        ${d.incidents.map(
          (i) =>
            html`<div class="panel incident">
              <span class="badge s-${i.level}">${i.level}</span> <b>${i.subjectKind} ${i.subjectId}</b>:
              ${i.message} <span class="muted">· ${i.occurrences}× since ${timeTag(i.openedAt, zone)}</span>
              <a href="/incidents">details</a>
            </div>`,
        )}
      </section>`
    : '';
  const beat = d.lastPassAt ?? d.startedAt;
  const cards = html`<div class="cards" aria-label="Daemon">
    <div class="card">
      <span class="muted">Daemon</span
      ><b>${d.startedAt === null ? 'not scheduling' : 'running'}</b
      >${d.startedAt === null ? '' : html`<span class="muted">since ${timeTag(d.startedAt, zone)}</span>`}
    </div>
    <div class="card">
      <span class="muted">Heartbeat</span
      ><b>${beat === null ? '—' : relativeText(beat, now)}</b>${timeTag(beat, zone)}
    </div>
    <div class="card">
      <span class="muted">Tasks</span><b>${d.tasks.length}</b
      ><span class="muted">${d.tasks.filter((t) => t.paused).length} paused</span>
    </div>
    <div class="card">
      <span class="muted">Running now</span><b>${d.running.length}</b
      ><span class="muted">${d.running.map((r) => r.task).join(', ') || 'nothing'}</span>
    </div>
    <div class="card">
      <span class="muted">Store</span><b>${d.store.reachable ? 'reachable' : 'unreachable'}</b
      ><span class="muted"
        >${d.store.waiting ? `${d.store.waiting} records waiting` : 'nothing waiting'}</span
      >
    </div>
  </div>`;
  const rows = d.tasks.map((t) => {
    const recent = [...(d.recent.get(t.id) ?? [])].filter((r) => r.durationMs !== null).reverse();
    const status = t.paused ? 'paused' : d.running.some((r) => r.task === t.id) ? 'running' : t.lastStatus;
    return html`<tr>
      <td>
        <a href="/tasks/${encodeURIComponent(t.id)}">${t.id}</a
        >${t.description ? html`<div class="muted">${t.description}</div>` : ''}
      </td>
      <td>
        ${statusBadge(status)}${t.consecutiveFailures > 1 ? html` <span class="muted">${t.consecutiveFailures} failures in a row</span>` : ''}
      </td>
      <td>
        ${scheduleText(t.schedule, t.timezone)}
        <div class="muted">
          ${t.nextRunAt === null ? 'no next run' : html`next ${timeTag(t.nextRunAt, zone)}`}
        </div>
      </td>
      <td>
        ${
          t.lastFinishedAt === null
            ? html`<span class="muted">never</span>`
            : html`${timeTag(t.lastFinishedAt, zone)}
                <div class="muted">${relativeText(t.lastFinishedAt, now)}</div>`
        }
      </td>
      <td class="num">${pct(d.successRate.get(t.id))}</td>
      <td>
        ${sparkline(
          recent.map((r) => ({ ms: r.durationMs!, ok: r.status === 'success' || r.status === 'warning' })),
          `durations of the last ${recent.length} runs of ${t.id}, longest ${durationText(Math.max(0, ...recent.map((r) => r.durationMs!)))}`,
        )}
      </td>
    </tr>`;
  });
  const hosts =
    d.hosts.length > 1
      ? html`<section aria-labelledby="hosts-h">
          <h2 id="hosts-h">Hosts (${d.hosts.length})</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">State</th>
                <th scope="col">Last seen</th>
                <th scope="col">Running</th>
                <th scope="col">Version</th>
              </tr>
            </thead>
            <tbody>
              ${d.hosts.map(
                (h) =>
                  html`<tr>
                    <td><a href="/?host=${encodeURIComponent(h.name)}">${h.name}</a></td>
                    <td>${statusBadge(h.state)}</td>
                    <td>${timeTag(h.lastSeenAt, zone)}</td>
                    <td class="num">${h.running}</td>
                    <td>${h.version}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </section>`
      : '';
  const body = html`${incidents}${cards}
    <section aria-labelledby="tasks-h">
      <h2 id="tasks-h">Tasks</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Schedule and next run</th>
              <th scope="col">Last run</th>
              <th scope="col">Success, 7 days</th>
              <th scope="col">Last 30 durations</th>
            </tr>
          </thead>
          <tbody>
            ${rows}
          </tbody>
        </table>
      </div>
    </section>
    ${hosts}`;
  return layout(ctx, { title: 'Overview', active: '/', body, refreshS: 15 });
}
