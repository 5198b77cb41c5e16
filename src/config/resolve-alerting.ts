/** Options → Resolved for the alerting sections (see alerting-schema.ts for what users write). */
import { parseDays, parseHours } from '../core/window.js';
import type {
  AlertPolicy,
  AnomalyPolicy,
  ChannelConfig,
  HeartbeatConfig,
  WatchConfig,
} from '../notify/types.js';
import { ALERT_EVENTS } from '../notify/types.js';
import type { RawConfig, RawTask } from './schema.js';

export const ALERT_DEFAULTS = {
  renotifyMs: 6 * 3_600_000,
  channelTimeoutMs: 10_000,
  channelRetries: 3,
  channelBackoffMs: 2_000,
  watchGraceMs: 5 * 60_000,
  heartbeatEveryMs: 60_000,
  reportsKeep: 200,
  tooLong: 3,
  minRuns: 10,
  failureRateOverMs: 24 * 3_600_000,
  failureRateMinRuns: 4,
} as const;

export interface AlertingConfig {
  readonly channels: readonly ChannelConfig[];
  readonly policy: AlertPolicy;
  readonly watches: readonly WatchConfig[];
  readonly heartbeat: HeartbeatConfig;
  readonly reports: { readonly keep: number };
}

export function resolveAnomalies(task: RawTask['anomalies'], defaults: RawTask['anomalies']): AnomalyPolicy {
  const off: AnomalyPolicy = {
    tooLong: null,
    tooShort: null,
    minRuns: ALERT_DEFAULTS.minRuns,
    tooOften: null,
    failureRate: null,
  };
  const a = task ?? defaults;
  if (a === false) return off;
  const d = defaults === false ? undefined : defaults;
  const pick = <K extends keyof Exclude<RawTask['anomalies'], false | undefined>>(k: K) =>
    a !== undefined && k in a ? a[k] : d?.[k];
  const tooLong = pick('too_long');
  const tooShort = pick('too_short');
  const rate = pick('failure_rate');
  return {
    tooLong: tooLong === false ? null : (tooLong ?? ALERT_DEFAULTS.tooLong),
    tooShort: tooShort === false || tooShort === undefined ? null : tooShort,
    minRuns: pick('min_runs') ?? ALERT_DEFAULTS.minRuns,
    tooOften: pick('too_often') ?? null,
    failureRate: rate
      ? {
          max: rate.max,
          overMs: rate.over ?? ALERT_DEFAULTS.failureRateOverMs,
          minRuns: rate.min_runs ?? ALERT_DEFAULTS.failureRateMinRuns,
        }
      : null,
  };
}

export function resolveAlerting(
  raw: RawConfig,
  ctx: { abs: (p: string) => string; dir: string; host: string; timezone: string },
): AlertingConfig {
  const used = new Map<string, number>();
  const channels = (raw.notify ?? []).map((c): ChannelConfig => {
    const n = (used.get(c.type) ?? 0) + 1;
    used.set(c.type, n);
    const base = {
      name: c.name ?? (n === 1 ? c.type : `${c.type}-${n}`),
      on: c.on ?? [...ALERT_EVENTS],
      subjects: c.tasks ?? null,
      quietHours: c.quiet_hours ?? true,
      timeoutMs: c.timeout ?? ALERT_DEFAULTS.channelTimeoutMs,
      retries: c.retries ?? ALERT_DEFAULTS.channelRetries,
      backoffMs: c.backoff ?? ALERT_DEFAULTS.channelBackoffMs,
    };
    switch (c.type) {
      case 'webhook':
        return {
          ...base,
          type: 'webhook',
          url: c.url ?? null,
          urlEnv: c.url_env ?? null,
          secretEnv: c.secret_env ?? null,
          headers: c.headers ?? {},
          headersEnv: c.headers_env ?? {},
        };
      case 'slack':
        return { ...base, type: 'slack', url: c.url ?? null, urlEnv: c.url_env ?? null };
      case 'email':
        return {
          ...base,
          type: 'email',
          smtp: c.smtp ?? null,
          smtpEnv: c.smtp_env ?? null,
          from: c.from ?? `caretaker@${ctx.host}`,
          to: c.to,
          usernameEnv: c.username_env ?? null,
          passwordEnv: c.password_env ?? null,
          starttls: c.starttls ?? 'auto',
          caFile: c.ca_file === undefined ? null : ctx.abs(c.ca_file),
          subjectPrefix: c.subject_prefix ?? '[caretaker]',
        };
      case 'command':
        return { ...base, type: 'command', command: c.command, cwd: ctx.abs(c.cwd ?? '.'), env: c.env ?? {} };
    }
  });
  const quiet = raw.alerts?.quiet_hours;
  const renotify = raw.alerts?.renotify;
  const every = raw.heartbeat?.every ?? ALERT_DEFAULTS.heartbeatEveryMs;
  return {
    channels,
    policy: {
      renotifyMs: renotify === false ? null : (renotify ?? ALERT_DEFAULTS.renotifyMs),
      quietHours: quiet
        ? {
            hours: parseHours(String(quiet.hours)),
            days: quiet.days === undefined ? null : parseDays(quiet.days),
            timezone: quiet.timezone ?? ctx.timezone,
          }
        : null,
    },
    watches: Object.entries(raw.watch ?? {}).map(([name, w]) => ({
      name,
      description: w.description,
      owner: w.owner,
      expect: w.expect,
      graceMs: w.grace ?? ALERT_DEFAULTS.watchGraceMs,
    })),
    heartbeat: {
      everyMs: every,
      staleAfterMs: raw.heartbeat?.stale_after ?? every * 3,
      url: raw.heartbeat?.url ?? null,
      urlEnv: raw.heartbeat?.url_env ?? null,
    },
    reports: { keep: raw.reports?.keep ?? ALERT_DEFAULTS.reportsKeep },
  };
}
