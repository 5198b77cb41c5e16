/**
 * Options → Resolved: one function between what the user wrote (validated `RawConfig`) and the
 * `Config` the engine runs on. Defaults are applied with `??` so an explicit 0 or false stays.
 */
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_CATEGORY_MULTIPLIERS, DEFAULT_WEIGHTS } from '../core/priority.js';
import { parseSchedule } from '../core/schedule.js';
import { parseDays, parseHours, type Window } from '../core/window.js';
import type { ActionRegistry } from '../actions/registry.js';
import { resolveAlerting, resolveAnomalies } from './resolve-alerting.js';
import { DEFAULT_STATE_DIR, statePaths } from './state-paths.js';
import type { RawConfig, RawTask } from './schema.js';
import type { Config, RetryPolicy, TaskConfig, TaskRollback } from './types.js';

export const DEFAULTS = {
  stateDir: DEFAULT_STATE_DIR,
  timezone: 'UTC',
  concurrency: 3,
  keepDays: 90,
  keepRunsPerTask: 1000,
  outputTailBytes: 64 * 1024,
  shutdownGraceMs: 30_000,
  leaseMs: 15_000,
  timeoutMs: 30 * 60_000,
  killGraceMs: 10_000,
  retryBackoffMs: 30_000,
  retryMaxBackoffMs: 3_600_000,
  missed: 'once',
  missedMax: 10,
  queueMax: 1,
  overlap: 'forbid',
  tokenEnv: 'CARETAKER_TOKEN',
  logLevel: 'info',
  maxRollbackPoints: 50,
  maxBackupBytes: 1024 ** 3,
} as const;

function retryPolicy(value: RawTask['retries']): RetryPolicy | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') {
    return { count: value, backoffMs: DEFAULTS.retryBackoffMs, maxBackoffMs: DEFAULTS.retryMaxBackoffMs };
  }
  return {
    count: value.count,
    backoffMs: value.backoff ?? DEFAULTS.retryBackoffMs,
    maxBackoffMs: value.max_backoff ?? DEFAULTS.retryMaxBackoffMs,
  };
}

function windowOf(value: RawTask['window'], timezone: string): Window | null {
  if (!value || (value.hours === undefined && value.days === undefined)) return null;
  return {
    hours: value.hours === undefined ? null : parseHours(String(value.hours)),
    days: value.days === undefined ? null : parseDays(value.days),
    timezone,
  };
}

function rollbackOf(value: RawTask['rollback'], abs: (p: string) => string): TaskRollback | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { paths: [], onFailure: false };
  if (value === 'on_failure') return { paths: [], onFailure: true };
  return { paths: (value.paths ?? []).map(abs), onFailure: value.on_failure ?? false };
}

export interface ResolveInput {
  readonly raw: RawConfig;
  readonly options: ReadonlyMap<string, unknown>;
  readonly file: string;
  readonly dir: string;
  readonly registry: ActionRegistry;
  readonly host?: string;
}

export function resolveConfig({ raw, options, file, dir, registry, host }: ResolveInput): Config {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const timezone = raw.timezone ?? DEFAULTS.timezone;
  const d = raw.defaults ?? {};
  const { stateDir, store } = statePaths(dir, raw.state_dir, raw);

  const tasks: TaskConfig[] = Object.entries(raw.tasks).map(([id, t]): TaskConfig => {
    const zone = t.timezone ?? timezone;
    const action = registry.get(t.action);
    return {
      id,
      description: t.description,
      owner: t.owner,
      action: t.action,
      options: options.get(id),
      enabled: t.enabled ?? true,
      schedule: t.schedule === undefined ? null : parseSchedule(t.schedule, zone),
      timezone: zone,
      window: windowOf(t.window ?? d.window, zone),
      cooldownMs: t.cooldown ?? d.cooldown ?? 0,
      jitterMs: t.jitter ?? d.jitter ?? 0,
      missed: t.missed ?? d.missed ?? DEFAULTS.missed,
      missedMax: t.missed_max ?? d.missed_max ?? DEFAULTS.missedMax,
      queueMax: t.queue_max ?? d.queue_max ?? DEFAULTS.queueMax,
      startingDeadlineMs: t.starting_deadline ?? d.starting_deadline ?? null,
      overlap: t.overlap ?? d.overlap ?? DEFAULTS.overlap,
      group: t.group ?? null,
      timeoutMs: t.timeout ?? d.timeout ?? DEFAULTS.timeoutMs,
      killGraceMs: t.kill_grace ?? d.kill_grace ?? DEFAULTS.killGraceMs,
      retries: retryPolicy(t.retries) ??
        retryPolicy(d.retries) ?? {
          count: 0,
          backoffMs: DEFAULTS.retryBackoffMs,
          maxBackoffMs: DEFAULTS.retryMaxBackoffMs,
        },
      dependsOn: t.depends_on ?? [],
      priority: t.priority ?? 'medium',
      category: t.category ?? action?.category,
      impact: t.impact ?? {},
      effort: t.effort ?? {},
      scope: t.scope ?? 'host',
      takeover: t.takeover ?? 'rerun',
      anomalies: resolveAnomalies(t.anomalies, d.anomalies),
      rollback: rollbackOf(t.rollback, abs),
    };
  });

  const listen = raw.server?.listen;
  let listenAddr: Config['server']['listen'] = null;
  if (listen) {
    const i = listen.lastIndexOf(':');
    listenAddr = { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
  }

  const hostName = host ?? raw.host ?? hostname();
  return deepFreeze({
    file,
    dir,
    stateDir,
    store,
    timezone,
    host: hostName,
    concurrency: raw.concurrency ?? DEFAULTS.concurrency,
    groups: raw.groups ?? {},
    history: {
      keepDays: raw.history?.keep_days ?? DEFAULTS.keepDays,
      keepRunsPerTask: raw.history?.keep_runs_per_task ?? DEFAULTS.keepRunsPerTask,
      outputTailBytes: raw.history?.output_tail ?? DEFAULTS.outputTailBytes,
    },
    shutdownGraceMs: raw.shutdown_grace ?? DEFAULTS.shutdownGraceMs,
    fleet: fleetTiming(raw.lease ?? DEFAULTS.leaseMs),
    server: {
      listen: listenAddr,
      tokenEnv: raw.server?.token_env ?? DEFAULTS.tokenEnv,
      tls: raw.server?.tls ? { cert: abs(raw.server.tls.cert), key: abs(raw.server.tls.key) } : null,
    },
    metrics: {
      public: raw.metrics?.public ?? false,
      textfile: raw.metrics?.textfile === undefined ? null : abs(raw.metrics.textfile),
    },
    priority: {
      weights: { ...DEFAULT_WEIGHTS, ...raw.priority?.weights },
      categories: { ...DEFAULT_CATEGORY_MULTIPLIERS, ...raw.priority?.categories },
    },
    log: { level: raw.log?.level ?? DEFAULTS.logLevel },
    alerting: resolveAlerting(raw, { abs, dir, host: hostName, timezone }),
    rollback: {
      maxPoints: raw.max_rollback_points ?? DEFAULTS.maxRollbackPoints,
      maxBytes: raw.max_backup_size ?? DEFAULTS.maxBackupBytes,
    },
    tasks,
  });
}

/** Freezes plain objects and arrays; leaves class instances (a compiled cron) alone. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null && !Array.isArray(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

/** A host heartbeats three times per lease, so one late beat never loses it. */
function fleetTiming(leaseMs: number): Config['fleet'] {
  return { leaseMs, heartbeatMs: Math.max(100, Math.floor(leaseMs / 3)) };
}
