/** A run: queued → started → finished, its output (live while it runs), result and rollback point. */
import type { PointSummary, RunRecord } from '../../caretaker.js';
import { plural } from '../../core/plural.js';
import { formatSize } from '../../core/size.js';
import { html, type Html } from './html.js';
import { actionForm, allows, layout, statusBadge, timeTag, type PageContext, type Viewer } from './layout.js';
import type { RestoreNotice } from './restore-routes.js';
import { historyTable } from './task-page.js';
import { durationText } from './time-text.js';

export interface RunData {
  readonly run: RunRecord;
  /** The other attempts of the same cycle (retries), oldest first. */
  readonly attempts: readonly RunRecord[];
  readonly rollback: PointSummary | undefined;
  /** The run is in progress on this daemon: its output can be followed live. */
  readonly live: boolean;
  /** The outcome of a restore made from this page, shown once the browser is back here. */
  readonly notice?: RestoreNotice | undefined;
}

/** The Restore form of an operator: a required reason, kept in the rollback's history row. */
function restoreForm(v: Viewer, runId: number): Html {
  return html`<form method="post" action="/runs/${runId}/restore" class="restore">
    <input type="hidden" name="csrf" value="${v.csrf}" />
    <label for="restore-reason">Reason</label>
    <input
      id="restore-reason"
      name="reason"
      type="text"
      required
      maxlength="500"
      placeholder="why the files go back (kept in history)"
    />
    <button type="submit" class="danger">Restore</button>
  </form>`;
}

function noticeOf(n: RestoreNotice): Html {
  const run = n.runId === null ? '' : html` Recorded as <a href="/runs/${n.runId}">run #${n.runId}</a>.`;
  return n.ok
    ? html`<p class="notice ok" role="status">${n.text}${run}</p>`
    : html`<p class="error" role="alert">Not restored: ${n.text}</p>`;
}

export function runPage(ctx: PageContext, d: RunData): string {
  const { zone } = ctx;
  const r = d.run;
  const active = r.status === 'queued' || r.status === 'running';
  const steps = html`<ol class="steps" aria-label="Progress">
    <li class="done">queued ${timeTag(r.queuedAt, zone)}</li>
    <li class="${r.startedAt !== null ? 'done' : ''}">started ${timeTag(r.startedAt, zone)}</li>
    <li class="${r.finishedAt !== null ? 'done' : ''}">finished ${timeTag(r.finishedAt, zone)}</li>
  </ol>`;
  const res = r.result;
  const figures: [string, string][] = [];
  if (res?.bytesFreed) figures.push(['Bytes freed', formatSize(res.bytesFreed)]);
  if (res?.filesModified !== undefined) figures.push(['Files modified', String(res.filesModified)]);
  if (res?.issuesFound !== undefined) figures.push(['Issues found', String(res.issuesFound)]);
  if (res?.issuesFixed !== undefined) figures.push(['Issues fixed', String(res.issuesFixed)]);
  const rowsDeleted = (res?.details as { deleted?: unknown; rowsDeleted?: unknown } | undefined)?.rowsDeleted;
  if (typeof rowsDeleted === 'number') figures.push(['Rows deleted', String(rowsDeleted)]);
  const result = res
    ? html`<section class="panel" aria-labelledby="res-h">
        <h2 id="res-h">Result</h2>
        <p>${res.ok ? '' : html`<span class="badge s-failed">not ok</span> `}${res.summary}</p>
        ${
          figures.length
            ? html`<dl class="facts">
                ${figures.map(
                  ([k, x]) =>
                    html`<dt>${k}</dt>
                      <dd>${x}</dd>`,
                )}
              </dl>`
            : ''
        }
        ${
          res.warnings?.length
            ? html`<h3>Warnings</h3>
                <ul>
                  ${res.warnings.map((w) => html`<li>${w}</li>`)}
                </ul>`
            : ''
        }
        ${
          res.plan?.length
            ? html`<h3>Plan</h3>
                <ol>
                  ${res.plan.map((p) => html`<li>${p}</li>`)}
                </ol>`
            : ''
        }
        ${
          res.findings?.length
            ? html`<h3>Findings</h3>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Severity</th>
                      <th scope="col">Where</th>
                      <th scope="col">Message</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${res.findings.slice(0, 500).map(
                      (f) =>
                        html`<tr>
                          <td>${f.severity}</td>
                          <td><code>${f.file ?? ''}${f.line !== undefined ? `:${f.line}` : ''}</code></td>
                          <td>${f.message}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
            : ''
        }
        ${
          res.details
            ? html`<details>
                <summary>Details</summary>
                <pre>${JSON.stringify(res.details, null, 2)}</pre>
              </details>`
            : ''
        }
      </section>`
    : '';
  const rollback = d.rollback
    ? html`<section class="panel" aria-labelledby="rb-h">
        <h2 id="rb-h">Rollback point</h2>
        <p>
          <code>${d.rollback.id}</code>: ${plural(d.rollback.files, 'file')}, ${formatSize(d.rollback.bytes)},
          taken
          ${timeTag(d.rollback.createdAt, zone)}${d.rollback.restores.length ? `, restored ${d.rollback.restores.length}×` : ''}.
        </p>
        ${
          d.rollback.error
            ? html`<p class="error">${d.rollback.error}</p>`
            : allows(ctx.viewer, 'operator')
              ? restoreForm(ctx.viewer, r.id)
              : html`<p class="muted">
                  An operator can restore it here, or with
                  <code>caretaker rollback ${d.rollback.id} --reason TEXT</code>.
                </p>`
        }
      </section>`
    : '';
  const v = ctx.viewer;
  const cancel =
    active && allows(v, 'operator')
      ? html`<div class="actions">${actionForm(v, `/runs/${r.id}/cancel`, 'Cancel', { danger: true })}</div>`
      : '';
  const output = html`<section aria-labelledby="out-h">
    <h2 id="out-h">
      Output${d.live ? html` <span id="live-status" class="badge s-running" role="status">live</span>` : ''}
    </h2>
    <pre id="output" ${d.live ? html` data-stream="/runs/${r.id}/events" aria-live="polite"` : ''}>
${r.outputTail ?? (d.live ? '' : 'no output')}</pre>
  </section>`;
  const body = html`<p>
      <a href="/tasks/${encodeURIComponent(r.task)}">${r.task}</a> · ${statusBadge(r.status)} ·
      ${r.trigger}${r.dryRun ? ' · dry run' : ''} · attempt ${r.attempt} · host ${r.host} ·
      ${durationText(r.durationMs)}
    </p>
    ${d.notice ? noticeOf(d.notice) : ''} ${cancel} ${steps}
    ${r.reason ? html`<p class="notice">${r.reason}</p>` : ''} ${output} ${result} ${rollback}
    ${
      d.attempts.length > 1
        ? html`<h2>Attempts of this cycle</h2>
            ${historyTable(d.attempts, zone)}`
        : ''
    }`;
  return layout(ctx, {
    title: `Run #${r.id}`,
    active: '/',
    body,
    refreshS: active && !d.live ? 5 : undefined,
  });
}
