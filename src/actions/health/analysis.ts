/**
 * From the recorded samples: each disk's growth rate and the date it will be full (a forecast
 * sooner than the horizon makes the check a warning), and a trend label for every sampled value
 * that has a good direction (recent half of the window against the older half, ±20 % by default).
 */
import { plural } from '../../core/plural.js';
import { formatDuration } from '../../core/duration.js';
import { forecastFull, type Point } from '../../core/forecast.js';
import { formatSize } from '../../core/size.js';
import { trendOf } from '../../core/trend.js';
import type { SampleHistory } from '../types.js';
import { worst, type CheckResult } from './check-types.js';

const DAY = 86_400_000;
/** A forecast needs samples spanning at least this long; less is noise. */
const MIN_SPAN_MS = 3_600_000;

export interface AnalysisOptions {
  readonly now: number;
  readonly forecastDays: number;
  readonly horizonMs: number;
  readonly trendDays: number;
  readonly trendThreshold: number;
}

export interface DiskForecast {
  readonly check: string;
  readonly path: string;
  readonly usedBytes: number;
  readonly capacityBytes: number;
  /** Bytes per day (negative: shrinking); null without enough samples. */
  readonly perDay: number | null;
  readonly fullAt: string | null;
  readonly daysLeft: number | null;
  readonly samples: number;
  /** The fit started after a big drop (a cleanup) at this instant. */
  readonly since: string | null;
  readonly status: 'ok' | 'warn' | 'n/a';
  readonly message: string;
}

/** `disk:/var:used_bytes`: stable as long as the check keeps its name. */
export const sampleKey = (r: Pick<CheckResult, 'kind' | 'name'>, metric: string) =>
  `${r.kind}:${r.name}:${metric}`;

export async function analyse(
  results: CheckResult[],
  history: SampleHistory | undefined,
  o: AnalysisOptions,
): Promise<{ results: CheckResult[]; forecasts: DiskForecast[] }> {
  const forecasts: DiskForecast[] = [];
  if (!history) return { results, forecasts };
  const out: CheckResult[] = [];
  for (const r of results) {
    let next = r;
    const trends: Record<string, string> = {};
    for (const s of r.samples ?? []) {
      if (!s.better) continue;
      const since = o.now - o.trendDays * DAY;
      const past = await history.series(sampleKey(r, s.metric), since);
      const t = trendOf([...past, { at: o.now, value: s.value }], s.better, {
        from: since,
        to: o.now,
        threshold: o.trendThreshold,
      });
      trends[s.metric] = t.label;
    }
    if (Object.keys(trends).length > 0) next = { ...next, trends };
    if (r.kind === 'disk' && r.details && r.status !== 'skipped') {
      const f = await diskForecast(r, history, o);
      forecasts.push(f);
      if (f.status === 'warn')
        next = { ...next, status: worst(next.status, 'warn'), message: `${next.message}; ${f.message}` };
    }
    out.push(next);
  }
  return { results: out, forecasts };
}

async function diskForecast(
  r: CheckResult,
  history: SampleHistory,
  o: AnalysisOptions,
): Promise<DiskForecast> {
  const d = r.details as { path: string; usedBytes: number; capacityBytes: number };
  const past = await history.series(sampleKey(r, 'used_bytes'), o.now - o.forecastDays * DAY);
  const points: Point[] = [...past, { at: o.now, value: d.usedBytes }];
  const f = forecastFull(points, d.capacityBytes, o.now, MIN_SPAN_MS);
  const base = {
    check: r.name,
    path: d.path,
    usedBytes: d.usedBytes,
    capacityBytes: d.capacityBytes,
    samples: points.length,
  };
  if (!f)
    return {
      ...base,
      perDay: null,
      fullAt: null,
      daysLeft: null,
      since: null,
      status: 'n/a',
      message: `not enough samples for a forecast yet (${points.length}, over ${formatDuration(points[points.length - 1]!.at - points[0]!.at)})`,
    };
  const since = f.since === null ? null : new Date(f.since).toISOString();
  const rate = `${f.perDay >= 0 ? '+' : '-'}${formatSize(Math.abs(f.perDay))}/day`;
  if (f.fullAt === null)
    return {
      ...base,
      perDay: f.perDay,
      fullAt: null,
      daysLeft: null,
      since,
      status: 'ok',
      message: `${rate}: not filling up`,
    };
  const soon = f.fullAt - o.now < o.horizonMs;
  const when = new Date(f.fullAt).toISOString().slice(0, 10);
  return {
    ...base,
    perDay: f.perDay,
    fullAt: new Date(f.fullAt).toISOString(),
    daysLeft: f.daysLeft,
    since,
    status: soon ? 'warn' : 'ok',
    message: `${rate}: full in ${f.daysLeft! < 1 ? formatDuration(f.daysLeft! * DAY) : plural(Math.round(f.daysLeft!), 'day')} (${when})${soon ? `, within the ${formatDuration(o.horizonMs)} horizon` : ''}`,
  };
}
