/**
 * The summary report over N days: runs and success rates per task, durations, the failures with
 * their last output lines, bytes freed, backups and whether they were verified, open incidents,
 * dead-man watches and the disk forecast. Gathered from the store, rendered to Markdown or JSON.
 */
import type { DiskForecast } from '../actions/health/analysis.js';
import { toMarkdownTable } from '../core/dataset.js';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import {
  FAILURE_STATUSES,
  type IncidentRecord,
  type PingRecord,
  type RunRecord,
  type Store,
} from '../store/types.js';
import { runsSince } from './datasets.js';
import { computeMetrics, type TaskMetrics } from './metrics.js';

const DAY = 86_400_000;
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export interface SummaryInput {
  readonly store: Store;
  readonly host: string;
  readonly now: number;
  readonly days: number;
  readonly tasks: readonly { readonly id: string; readonly action: string; readonly owner?: string }[];
  readonly watches: readonly { readonly name: string; readonly expect: string }[];
}

export interface SummaryReport {
  readonly generatedAt: string;
  readonly host: string;
  readonly days: number;
  readonly from: string;
  readonly to: string;
  readonly totals: {
    readonly runs: number;
    readonly successes: number;
    readonly failures: number;
    readonly successRate: number | null;
    readonly bytesFreed: number;
  };
  readonly tasks: readonly (TaskMetrics & { readonly owner: string | null; readonly bytesFreed: number })[];
  readonly failures: readonly {
    readonly runId: number;
    readonly task: string;
    readonly status: string;
    readonly at: string | null;
    readonly reason: string | null;
    readonly lastLines: string | null;
  }[];
  readonly backups: readonly {
    readonly task: string;
    readonly action: string;
    readonly lastRunAt: string | null;
    readonly lastStatus: string | null;
    readonly summary: string | null;
    readonly verifiedAt: string | null;
    readonly verifyStatus: string | null;
  }[];
  readonly openIncidents: readonly {
    readonly id: number;
    readonly subject: string;
    readonly event: string;
    readonly level: string;
    readonly openedAt: string;
    readonly occurrences: number;
    readonly message: string;
  }[];
  readonly watches: readonly {
    readonly name: string;
    readonly expect: string;
    readonly lastPingAt: string | null;
    readonly lastPingOk: boolean | null;
  }[];
  readonly diskForecast: readonly DiskForecast[];
}

function lastLines(text: string | null, n = 5): string | null {
  if (!text) return null;
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

export async function gatherSummary(i: SummaryInput): Promise<SummaryReport> {
  const since = i.now - i.days * DAY;
  const today = Math.floor(i.now / DAY);
  const metrics = computeMetrics(await i.store.dailyStats(today - i.days + 1), i.days, today);
  const runs = (await runsSince(i.store, since)).filter((r) => !r.dryRun);
  const freed = new Map<string, number>();
  for (const r of runs)
    if (r.result?.bytesFreed) freed.set(r.task, (freed.get(r.task) ?? 0) + r.result.bytesFreed);
  const owners = new Map(i.tasks.map((t) => [t.id, t.owner ?? null]));
  const latest = (pred: (r: RunRecord) => boolean) => runs.find(pred); // runs are newest first

  const backups = i.tasks
    .filter((t) => t.action === 'backup')
    .map((t) => {
      const last = latest((r) => r.task === t.id && r.finishedAt !== null);
      const verify = latest((r) => {
        const task = i.tasks.find((x) => x.id === r.task);
        return task?.action === 'verify-backups' && r.finishedAt !== null;
      });
      return {
        task: t.id,
        action: t.action,
        lastRunAt: iso(last?.finishedAt ?? null),
        lastStatus: last?.status ?? null,
        summary: last?.result?.summary ?? last?.reason ?? null,
        verifiedAt: iso(verify?.finishedAt ?? null),
        verifyStatus: verify?.status ?? null,
      };
    });

  const healthTasks = new Set(i.tasks.filter((t) => t.action === 'health').map((t) => t.id));
  const diskForecast: DiskForecast[] = [];
  for (const id of healthTasks) {
    const last = latest((r) => r.task === id && r.result !== null);
    const f = (last?.result?.details as { forecasts?: DiskForecast[] } | undefined)?.forecasts;
    if (f) diskForecast.push(...f);
  }

  const open: IncidentRecord[] = await i.store.listIncidents({ open: true, limit: 1000 });
  const pings: Map<string, PingRecord> = await i.store.lastPings();
  const total = metrics.total;
  const bytesFreed = [...freed.values()].reduce((a, b) => a + b, 0);
  return {
    generatedAt: new Date(i.now).toISOString(),
    host: i.host,
    days: i.days,
    from: metrics.fromDay,
    to: metrics.toDay,
    totals: {
      runs: total.runs,
      successes: total.successes,
      failures: total.failures,
      successRate: total.successRate,
      bytesFreed,
    },
    tasks: metrics.tasks.map((t) => ({
      ...t,
      owner: owners.get(t.task) ?? null,
      bytesFreed: freed.get(t.task) ?? 0,
    })),
    failures: runs
      .filter((r) => FAILURE_STATUSES.includes(r.status))
      .slice(0, 50)
      .map((r) => ({
        runId: r.id,
        task: r.task,
        status: r.status,
        at: iso(r.finishedAt),
        reason: r.reason ?? r.result?.summary ?? null,
        lastLines: lastLines(r.outputTail),
      })),
    backups,
    openIncidents: open.map((x) => ({
      id: x.id,
      subject: `${x.subjectKind} ${x.subjectId}`,
      event: x.event,
      level: x.level,
      openedAt: new Date(x.openedAt).toISOString(),
      occurrences: x.occurrences,
      message: x.message,
    })),
    watches: i.watches.map((w) => {
      const p = pings.get(w.name);
      return { name: w.name, expect: w.expect, lastPingAt: iso(p?.at ?? null), lastPingOk: p?.ok ?? null };
    }),
    diskForecast,
  };
}

const pctText = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(r === 1 ? 0 : 1)}%`);
const msText = (v: number | null) => (v === null ? '-' : formatDuration(v));

export function renderSummaryMarkdown(s: SummaryReport): string {
  const out: string[] = [
    `# caretaker report: ${s.host}`,
    '',
    `${s.from} to ${s.to} (${s.days} days), generated ${s.generatedAt}`,
    '',
    `**${s.totals.runs} runs, ${pctText(s.totals.successRate)} succeeded, ${s.totals.failures} failed; ${formatSize(s.totals.bytesFreed)} freed.**`,
    '',
    '## Tasks',
    '',
  ];
  out.push(
    s.tasks.length === 0
      ? '_(no runs in this period)_'
      : toMarkdownTable({
          columns: ['task', 'owner', 'runs', 'success', 'avg', 'p95', 'max', 'freed', 'trend'],
          rows: s.tasks.map((t) => [
            t.task,
            t.owner ?? '',
            t.runs,
            pctText(t.successRate),
            msText(t.avgMs),
            msText(t.p95Ms),
            msText(t.maxMs),
            t.bytesFreed ? formatSize(t.bytesFreed) : '',
            t.trend,
          ]),
        }),
  );
  out.push('', '## Open incidents', '');
  out.push(
    s.openIncidents.length === 0
      ? '_(none)_'
      : toMarkdownTable({
          columns: ['#', 'subject', 'event', 'since', 'seen', 'message'],
          rows: s.openIncidents.map((x) => [
            x.id,
            x.subject,
            x.event,
            x.openedAt.slice(0, 16),
            x.occurrences,
            x.message.split('\n')[0] ?? '',
          ]),
        }),
  );
  out.push('', '## Failures', '');
  if (s.failures.length === 0) out.push('_(none)_');
  for (const f of s.failures) {
    out.push(`- **${f.task}** run #${f.runId} ${f.status} at ${f.at ?? '?'}: ${f.reason ?? ''}`);
    if (f.lastLines) out.push('', '  ```', ...f.lastLines.split('\n').map((l) => `  ${l}`), '  ```');
  }
  if (s.backups.length > 0) {
    out.push('', '## Backups', '');
    out.push(
      toMarkdownTable({
        columns: ['task', 'last run', 'status', 'verified', 'verify status', 'summary'],
        rows: s.backups.map((b) => [
          b.task,
          b.lastRunAt ?? 'never',
          b.lastStatus ?? '-',
          b.verifiedAt ?? 'never',
          b.verifyStatus ?? '-',
          b.summary ?? '',
        ]),
      }),
    );
  }
  if (s.watches.length > 0) {
    out.push('', '## Watches (dead-man pings)', '');
    out.push(
      toMarkdownTable({
        columns: ['watch', 'expect', 'last ping', 'ok'],
        rows: s.watches.map((w) => [
          w.name,
          w.expect,
          w.lastPingAt ?? 'never',
          w.lastPingOk === null ? '-' : w.lastPingOk ? 'yes' : 'no',
        ]),
      }),
    );
  }
  out.push('', '## Disk forecast', '');
  out.push(
    s.diskForecast.length === 0
      ? '_(no disk checks yet)_'
      : toMarkdownTable({
          columns: ['disk', 'used', 'of', 'growth/day', 'full on'],
          rows: s.diskForecast.map((f) => [
            f.path,
            formatSize(f.usedBytes),
            formatSize(f.capacityBytes),
            f.perDay === null ? '-' : `${f.perDay >= 0 ? '+' : '-'}${formatSize(Math.abs(f.perDay))}`,
            f.fullAt?.slice(0, 10) ?? (f.perDay === null ? 'n/a' : 'not filling'),
          ]),
        }),
  );
  return `${out.join('\n')}\n`;
}
