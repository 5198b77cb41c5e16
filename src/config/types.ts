/** The resolved configuration: every default applied, paths absolute, durations in ms. Frozen. */
import type { Category, PriorityLevel, PriorityWeights } from '../core/priority.js';
import type { Schedule } from '../core/schedule.js';
import type { Window } from '../core/window.js';
import type { AnomalyPolicy } from '../notify/types.js';
import type { AlertingConfig } from './resolve-alerting.js';
import type { MISSED_POLICIES, OVERLAP_POLICIES } from './schema.js';

export type MissedPolicy = (typeof MISSED_POLICIES)[number];
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

export interface RetryPolicy {
  readonly count: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

/** `rollback:` of a task, resolved. */
export interface TaskRollback {
  /** Extra absolute paths or globs, on top of what the action declares it modifies. */
  readonly paths: readonly string[];
  /** Restore the point when the run fails, times out or is cancelled. */
  readonly onFailure: boolean;
}

export interface TaskConfig {
  readonly id: string;
  readonly description: string | undefined;
  readonly owner: string | undefined;
  readonly action: string;
  /** The action's options, validated and parsed by the action's schema. */
  readonly options: unknown;
  readonly enabled: boolean;
  readonly schedule: Schedule | null;
  readonly timezone: string;
  readonly window: Window | null;
  readonly cooldownMs: number;
  readonly jitterMs: number;
  readonly missed: MissedPolicy;
  readonly missedMax: number;
  /** With overlap: queue, the most runs that may wait to start; a fire beyond it is skipped. */
  readonly queueMax: number;
  readonly startingDeadlineMs: number | null;
  readonly overlap: OverlapPolicy;
  readonly group: string | null;
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly retries: RetryPolicy;
  readonly dependsOn: readonly string[];
  readonly priority: PriorityLevel;
  readonly category: Category | undefined;
  readonly impact: Readonly<Record<string, number>>;
  readonly effort: { readonly complexity?: number; readonly risk?: number };
  readonly scope: 'host' | 'cluster';
  /** scope: cluster — what another host does with a slot whose holder stopped heartbeating. */
  readonly takeover: 'rerun' | 'skip';
  /** Run-time anomalies alerted on (too long, too short, too often, failure rate). */
  readonly anomalies: AnomalyPolicy;
  /** null: no rollback point is taken. */
  readonly rollback: TaskRollback | null;
}

/**
 * Where history is kept: a SQLite file, or a schema on a PostgreSQL server. A postgres URL may
 * carry a password (from `store_env:`, a secret): show it only through redactUrl / storeLabel.
 */
export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };

export interface Config {
  /** Absolute path of the file this came from (or a label for in-memory configs). */
  readonly file: string;
  /** Directory relative paths resolve against. */
  readonly dir: string;
  readonly stateDir: string;
  readonly store: StoreConfig;
  readonly timezone: string;
  readonly host: string;
  readonly concurrency: number;
  readonly groups: Readonly<Record<string, number>>;
  readonly history: {
    readonly keepDays: number;
    readonly keepRunsPerTask: number;
    readonly outputTailBytes: number;
  };
  readonly shutdownGraceMs: number;
  /** Fleet membership: a host silent past leaseMs is lost; it heartbeats every heartbeatMs. */
  readonly fleet: { readonly leaseMs: number; readonly heartbeatMs: number };
  readonly server: {
    readonly listen: { readonly host: string; readonly port: number } | null;
    /** Legacy: the variable holding one admin token for the TCP API. */
    readonly tokenEnv: string;
    /** HTTPS on the TCP listener: absolute paths of the PEM files. */
    readonly tls: { readonly cert: string; readonly key: string } | null;
  };
  /** Prometheus metrics: `public` lets TCP scrapes in without a token; `textfile`: an absolute path. */
  readonly metrics: { readonly public: boolean; readonly textfile: string | null };
  readonly priority: {
    readonly weights: PriorityWeights;
    readonly categories: Readonly<Record<string, number>>;
  };
  readonly log: { readonly level: string };
  /** notify:, alerts:, watch:, heartbeat:, reports:. */
  readonly alerting: AlertingConfig;
  readonly rollback: { readonly maxPoints: number; readonly maxBytes: number };
  readonly tasks: readonly TaskConfig[];
}
