/** A task: its configuration (secrets masked), next fire times, charts, buttons and history. */
import type {
  DaySeries,
  HistoryPage,
  PriorityBreakdown,
  RunRecord,
  TaskConfig,
  PauseRecord,
} from '../../caretaker.js';
import { RUN_STATUSES } from '../../caretaker.js';
import { html, type Html } from './html.js';
import { actionForm, allows, layout, statusBadge, timeTag, type PageContext } from './layout.js';
import { durationText, scheduleText } from './time-text.js';

export const TRIGGERS = ['schedule', 'catch-up', 'manual', 'retry', 'rollback', 'restore'] as const;

/** The history filters as they are in the query string (what the form sends back). */
export interface FilterText {
  readonly status?: string;
  readonly trigger?: string;
  readonly host?: string;
  readonly from?: string;
  readonly to?: string;
  readonly before?: string;
}

export interface TaskData {
  readonly task: TaskConfig;
  /** Paused: by whom, why, since when. */
  readonly paused: PauseRecord | null;
  readonly lastStatus: string | null;
  readonly options: unknown;
  readonly nextFires: readonly number[];
  readonly priority: PriorityBreakdown | null;
  readonly days: DaySeries;
  /** Recent runs, newest first, for the duration chart. */
  readonly recent: readonly RunRecord[];
  readonly page: HistoryPage;
  readonly filter: FilterText;
  readonly running: boolean;
}

function select(name: string, label: string, options: readonly string[], value: string | undefined): Html {
  return html`<label for="f-${name}"
    >${label}<select id="f-${name}" name="${name}">
      <option value="">any</option>
      ${options.map((o) => html`<option value="${o}" ${o === value ? html` selected` : ''}>${o}</option>`)}
    </select></label
  >`;
}

export function historyTable(runs: readonly RunRecord[], zone: string, withTask = false): Html {
  if (runs.length === 0) return html`<p class="muted">No runs match.</p>`;
  return html`<div class="scroll">
    <table>
      <thead>
        <tr>
          <th scope="col">Run</th>
          ${withTask ? html`<th scope="col">Task</th>` : ''}
          <th scope="col">Status</th>
          <th scope="col">Trigger</th>
          <th scope="col">Host</th>
          <th scope="col">Queued</th>
          <th scope="col">Duration</th>
          <th scope="col">Result</th>
        </tr>
      </thead>
      <tbody>
        ${runs.map(
          (r) =>
            html`<tr>
              <td>
                <a href="/runs/${r.id}">#${r.id}</a
                >${r.dryRun ? html` <span class="badge">dry run</span>` : ''}
              </td>
              ${withTask ? html`<td><a href="/tasks/${encodeURIComponent(r.task)}">${r.task}</a></td>` : ''}
              <td>${statusBadge(r.status)}</td>
              <td>${r.trigger}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}</td>
              <td>${r.host}</td>
              <td>${timeTag(r.queuedAt, zone)}</td>
              <td class="num">${durationText(r.durationMs)}</td>
              <td>${(r.result?.summary ?? r.reason ?? '').slice(0, 140)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function taskPage(ctx: PageContext, d: TaskData): string {
  const { zone } = ctx;
  const t = d.task;
  const v = ctx.viewer;
  const id = encodeURIComponent(t.id);
  const paused = d.paused;
  const buttons = allows(v, 'operator')
    ? html`<div class="actions" role="group" aria-label="Task actions">
        ${actionForm(v, `/tasks/${id}/run`, 'Run now')} ${actionForm(v, `/tasks/${id}/dry-run`, 'Dry run')}
        ${paused ? actionForm(v, `/tasks/${id}/resume`, 'Resume') : actionForm(v, `/tasks/${id}/pause`, 'Pause', { danger: true })}
      </div>`
    : '';
  const facts = html`<dl class="facts">
    <dt>Status</dt>
    <dd>
      ${statusBadge(paused ? 'paused' : d.running ? 'running' : d.lastStatus)}${paused ? html` <span class="muted">by ${paused.by} ${timeTag(paused.at, zone)}${paused.reason ? ` — ${paused.reason}` : ''}</span>` : ''}
    </dd>
    <dt>Action</dt>
    <dd><code>${t.action}</code></dd>
    ${
      t.description
        ? html`<dt>Description</dt>
            <dd>${t.description}</dd>`
        : ''
    }
    ${
      t.owner
        ? html`<dt>Owner</dt>
            <dd>${t.owner}</dd>`
        : ''
    }
    <dt>Schedule</dt>
    <dd>
      ${scheduleText(t.schedule?.text ?? null, t.timezone)}${t.schedule ? html` <code>${t.schedule.text}</code>` : ''}
    </dd>
    <dt>Next runs</dt>
    <dd>
      ${
        d.nextFires.length
          ? html`<ol>
              ${d.nextFires.map((f) => html`<li>${timeTag(f, zone)}</li>`)}
            </ol>`
          : html`<span class="muted">none</span>`
      }
    </dd>
    <dt>Timeout, retries</dt>
    <dd>${durationText(t.timeoutMs)}, ${t.retries.count} ${t.retries.count === 1 ? 'retry' : 'retries'}</dd>
    <dt>Depends on</dt>
    <dd>
      ${t.dependsOn.length ? t.dependsOn.map((x, i) => html`${i ? ', ' : ''}<a href="/tasks/${encodeURIComponent(x)}">${x}</a>`) : html`<span class="muted">nothing</span>`}
    </dd>
    <dt>Priority</dt>
    <dd>
      ${t.priority}${d.priority ? html` <span class="muted">score ${d.priority.score.toFixed(1)}</span>` : ''}
    </dd>
  </dl>`;
  const prio = d.priority
    ? html`<h2>Priority breakdown</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Term</th>
              <th scope="col">Value</th>
              <th scope="col">Weight</th>
              <th scope="col">Contribution</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            ${d.priority.terms.map(
              (term) =>
                html`<tr>
                  <td>${term.name}</td>
                  <td class="num">${term.value.toFixed(0)}</td>
                  <td class="num">${term.weight.toFixed(2)}</td>
                  <td class="num">${term.contribution.toFixed(1)}</td>
                  <td>${term.why}</td>
                </tr>`,
            )}
          </tbody>
        </table>`
    : '';
  const durations = [...d.recent].filter((r) => r.durationMs !== null && r.startedAt !== null).reverse();
  const durationChart = {
    unit: 'ms',
    zone,
    x: durations.map((r) => Math.round(r.startedAt! / 1_000)),
    series: [{ label: 'duration', unit: 'ms', values: durations.map((r) => r.durationMs) }],
  };
  const dayChart = {
    bars: true,
    zone,
    x: d.days.days.map((t0) => t0 / 1_000),
    series: [
      // Drawn under the failures: the bar's green part is the successes, its red part the failures.
      { label: 'runs', values: d.days.successes.map((n, i) => n + d.days.failures[i]!), color: 1 },
      { label: 'failures', values: d.days.failures, color: 2 },
    ],
  };
  const dayTable = html`<details>
    <summary>Per-day figures as a table</summary>
    <table>
      <thead>
        <tr>
          <th scope="col">Day (UTC)</th>
          <th scope="col">Successes</th>
          <th scope="col">Failures</th>
          <th scope="col">Average</th>
        </tr>
      </thead>
      <tbody>
        ${d.days.days.map(
          (day, i) =>
            html`<tr>
              <td>${new Date(day).toISOString().slice(0, 10)}</td>
              <td class="num">${d.days.successes[i]}</td>
              <td class="num">${d.days.failures[i]}</td>
              <td class="num">${durationText(d.days.avgMs[i])}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </details>`;
  const f = d.filter;
  const query = (before: number) =>
    new URLSearchParams({
      ...Object.fromEntries(Object.entries(f).filter(([k, x]) => k !== 'before' && x)),
      before: String(before),
    }).toString();
  const history = html`<h2 id="history">History</h2>
    <form method="get" action="/tasks/${id}#history" class="filters" aria-label="Filter the history">
      ${select('status', 'Status', RUN_STATUSES, f.status)}
      ${select('trigger', 'Trigger', TRIGGERS, f.trigger)}
      <label for="f-host">Host<input id="f-host" name="host" value="${f.host ?? ''}" size="14" /></label>
      <label for="f-from"
        >From (${zone})<input id="f-from" name="from" type="date" value="${f.from ?? ''}"
      /></label>
      <label for="f-to"
        >To, inclusive (${zone})<input id="f-to" name="to" type="date" value="${f.to ?? ''}"
      /></label>
      <button type="submit">Filter</button> <a href="/tasks/${id}#history">Clear</a>
    </form>
    ${historyTable(d.page.runs, zone)}
    ${d.page.truncated ? html`<p class="muted">The search stopped after 50,000 runs; go to the next page to search older ones.</p>` : ''}
    <p class="pager">
      ${d.page.nextBeforeId !== null ? html`<a href="/tasks/${id}?${query(d.page.nextBeforeId)}#history" rel="next">Older runs</a>` : html`<span class="muted">No older runs.</span>`}${f.before ? html` · <a href="/tasks/${id}#history">Newest runs</a>` : ''}
    </p>`;
  const body = html`${buttons}
    <div class="grid2">
      <section class="panel" aria-labelledby="cfg-h">
        <h2 id="cfg-h">Configuration</h2>
        ${facts}
        <h3>Options (secrets masked)</h3>
        <pre>${JSON.stringify(d.options, null, 2)}</pre>
      </section>
      <section aria-labelledby="charts-h">
        <h2 id="charts-h">Durations</h2>
        <div class="panel chart" data-chart="${JSON.stringify(durationChart)}">
          <p class="muted">
            ${durations.length} recent runs; the chart needs JavaScript, the history below does not.
          </p>
        </div>
        <h2>Successes and failures per day, 30 days</h2>
        <div class="panel chart" data-chart="${JSON.stringify(dayChart)}">${dayTable}</div>
      </section>
    </div>
    ${prio} ${history}`;
  return layout(ctx, { title: `Task ${t.id}`, active: '/', body, charts: true });
}
