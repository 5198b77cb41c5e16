/**
 * The health report: every check of one or more health runs with its status, value and limits,
 * the disk forecasts and the trends. Rendered to Markdown (saved per run under
 * state_dir/reports/ and printed by `caretaker health`), JSON and CSV (the checks table).
 */
import type { DiskForecast } from '../actions/health/analysis.js';
import { checkLabel, type CheckResult } from '../actions/health/check-types.js';
import { toMarkdownTable, type Cell, type Dataset } from '../core/dataset.js';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import type { RunRecord } from '../store/types.js';

export type ReportCheck = Omit<CheckResult, 'samples'>;

export interface HealthRunReport {
  readonly task: string;
  readonly runId: number;
  readonly status: string;
  readonly startedAt: string | null;
  readonly durationMs: number | null;
  readonly summary: string;
  readonly checks: readonly ReportCheck[];
  readonly forecasts: readonly DiskForecast[];
}

export interface HealthReport {
  readonly generatedAt: string;
  readonly host: string;
  /** ok, warn or fail: the worst of the runs. */
  readonly status: 'ok' | 'warn' | 'fail';
  readonly counts: {
    readonly ok: number;
    readonly warn: number;
    readonly fail: number;
    readonly skipped: number;
  };
  readonly runs: readonly HealthRunReport[];
}

function runStatus(run: RunRecord): 'ok' | 'warn' | 'fail' {
  if (run.status === 'success') return 'ok';
  if (run.status === 'warning') return 'warn';
  return 'fail';
}

export function healthReportOf(runs: readonly RunRecord[], host: string, now: number): HealthReport {
  const counts = { ok: 0, warn: 0, fail: 0, skipped: 0 };
  const reports = runs.map((run): HealthRunReport => {
    const d = (run.result?.details ?? {}) as { checks?: ReportCheck[]; forecasts?: DiskForecast[] };
    const checks = d.checks ?? [];
    for (const c of checks) counts[c.status]++;
    return {
      task: run.task,
      runId: run.id,
      status: run.status,
      startedAt: run.startedAt === null ? null : new Date(run.startedAt).toISOString(),
      durationMs: run.durationMs,
      summary: run.result?.summary ?? run.reason ?? run.status,
      checks,
      forecasts: d.forecasts ?? [],
    };
  });
  const statuses = runs.map(runStatus);
  const status = statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'ok';
  return { generatedAt: new Date(now).toISOString(), host, status, counts, runs: reports };
}

/** "latency_ms degrading"; labels without data are left out (and stable ones too, when `changesOnly`). */
function trendText(c: ReportCheck, changesOnly = false): string {
  return Object.entries(c.trends ?? {})
    .filter(([, t]) => t !== 'n/a' && !(changesOnly && t === 'stable'))
    .map(([m, t]) => `${m} ${t}`)
    .join(', ');
}

const ICON = { ok: 'OK', warn: 'WARN', fail: 'FAIL', skipped: 'SKIP' } as const;

function valueText(c: ReportCheck): string {
  if (c.value === null || c.value === undefined) return '-';
  if (c.unit === 'bytes' && typeof c.value === 'number') return formatSize(c.value);
  if (c.unit === 'ms' && typeof c.value === 'number') return formatDuration(c.value);
  return `${String(c.value)}${c.unit && c.unit !== 'ms' ? (c.unit === '%' ? '%' : ` ${c.unit}`) : ''}`;
}

export function healthChecksDataset(r: HealthReport): Dataset {
  const rows: Cell[][] = [];
  for (const run of r.runs) {
    for (const c of run.checks) {
      rows.push([
        run.task,
        c.kind,
        c.name,
        c.status,
        typeof c.value === 'object' ? JSON.stringify(c.value) : c.value,
        c.unit ?? null,
        c.thresholds ?? null,
        c.message,
        c.durationMs,
        c.trends
          ? Object.entries(c.trends)
              .map(([k, v]) => `${k}: ${v}`)
              .join('; ')
          : null,
      ]);
    }
  }
  return {
    name: 'health',
    columns: [
      'task',
      'kind',
      'check',
      'status',
      'value',
      'unit',
      'thresholds',
      'message',
      'duration_ms',
      'trend',
    ],
    rows,
  };
}

export function renderHealthMarkdown(r: HealthReport): string {
  const out: string[] = [
    `# Health report: ${ICON[r.status]}`,
    '',
    `${r.host}, ${r.generatedAt} — ${r.counts.ok} ok, ${r.counts.warn} warn, ${r.counts.fail} fail${r.counts.skipped ? `, ${r.counts.skipped} skipped` : ''}`,
  ];
  for (const run of r.runs) {
    out.push(
      '',
      `## ${run.task} (run #${run.runId}, ${run.status}${run.durationMs !== null ? `, ${formatDuration(run.durationMs)}` : ''})`,
      '',
    );
    if (run.checks.length === 0) {
      out.push(run.summary);
      continue;
    }
    const order = { fail: 0, warn: 1, ok: 2, skipped: 3 } as const;
    const sorted = [...run.checks].sort((a, b) => order[a.status] - order[b.status]);
    out.push(
      toMarkdownTable({
        columns: ['status', 'check', 'value', 'limits', 'trend', 'details'],
        rows: sorted.map((c) => [
          ICON[c.status],
          checkLabel(c),
          valueText(c),
          c.thresholds ?? '',
          trendText(c),
          `${c.message}${c.remedy ? ` — ${c.remedy.message}` : ''}`,
        ]),
      }),
    );
    if (run.forecasts.length > 0) {
      out.push('', '### Disk forecast', '');
      out.push(
        toMarkdownTable({
          columns: ['disk', 'used', 'of', 'growth/day', 'full on', 'basis'],
          rows: run.forecasts.map((f) => [
            f.path,
            formatSize(f.usedBytes),
            formatSize(f.capacityBytes),
            f.perDay === null ? '-' : `${f.perDay >= 0 ? '+' : '-'}${formatSize(Math.abs(f.perDay))}`,
            f.fullAt === null
              ? f.perDay === null
                ? 'n/a'
                : 'not filling'
              : `${f.fullAt.slice(0, 10)}${f.status === 'warn' ? ' (soon)' : ''}`,
            `${f.samples} samples${f.since ? ` since the drop at ${f.since.slice(0, 16)}` : ''}`,
          ]),
        }),
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/** Plain text for the terminal: one line per check, worst first, then the forecasts. */
export function renderHealthText(r: HealthReport): string {
  const out: string[] = [];
  for (const run of r.runs) {
    out.push(`${run.task} (run #${run.runId}): ${run.summary}`);
    const order = { fail: 0, warn: 1, ok: 2, skipped: 3 } as const;
    for (const c of [...run.checks].sort((a, b) => order[a.status] - order[b.status])) {
      const limits = (c.status === 'warn' || c.status === 'fail') && c.thresholds ? ` [${c.thresholds}]` : '';
      const trend = trendText(c, true);
      out.push(
        `  ${ICON[c.status].padEnd(4)}  ${checkLabel(c)}: ${c.message}${limits}${trend ? ` (${trend})` : ''}${c.remedy ? ` [${c.remedy.message}]` : ''}`,
      );
    }
    for (const f of run.forecasts) out.push(`  forecast ${f.path}: ${f.message}`);
  }
  out.push(`overall: ${ICON[r.status]} (${r.counts.ok} ok, ${r.counts.warn} warn, ${r.counts.fail} fail)`);
  return out.join('\n');
}
