/**
 * Alerts: the events caretaker tells people about, the channels it tells them through, and the
 * policies that keep it to one alert per incident. These are the resolved shapes (config/
 * resolves caretaker.yaml into them); secrets are never here, only the names of the environment
 * variables that hold them.
 */
import type { Window } from '../core/window.js';

export const ALERT_EVENTS = [
  'failure',
  'recovery',
  'warn',
  'threshold',
  'missed',
  'stuck',
  'anomaly',
  'start_failure',
  'host_lost',
  'store_unavailable',
] as const;
/** What happened. `test` is sent only by `caretaker notify-test`. */
export type AlertEventKind = (typeof ALERT_EVENTS)[number] | 'test';

export type Severity = 'critical' | 'warning' | 'info';

export interface AlertSubject {
  readonly kind: 'task' | 'watch' | 'daemon';
  readonly id: string;
  readonly owner?: string;
  readonly description?: string;
}

export interface AlertRun {
  readonly id: number;
  readonly status: string;
  readonly trigger: string;
  readonly attempt: number;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly exitCode: number | null;
  readonly summary: string | null;
  readonly reason: string | null;
  /** The last lines of the run's output (secrets named in the config redacted). */
  readonly outputTail: string | null;
}

/** One notification, as every channel receives it (the webhook's JSON body is exactly this). */
export interface AlertEvent {
  readonly event: AlertEventKind;
  readonly severity: Severity;
  /** One line: "backup failed on web-1". */
  readonly title: string;
  /** A few lines for humans. */
  readonly message: string;
  readonly host: string;
  /** ISO 8601. */
  readonly at: string;
  readonly subject: AlertSubject;
  readonly incident?: {
    readonly id: number;
    readonly key: string;
    readonly openedAt: string;
    /** How many times the problem was seen while this incident was open. */
    readonly occurrences: number;
    /** True when this repeats an alert already sent (renotify). */
    readonly repeat: boolean;
  };
  readonly run?: AlertRun;
  readonly details?: Readonly<Record<string, unknown>>;
}

// ---- channels ---------------------------------------------------------------------------------

interface ChannelBase {
  readonly name: string;
  /** Events this channel receives. */
  readonly on: readonly AlertEventKind[];
  /** Only incidents of these tasks and watches (null: all). */
  readonly subjects: readonly string[] | null;
  /** Hold deliveries during `alerts.quiet_hours` (false: a pager that must ring at night). */
  readonly quietHours: boolean;
  readonly timeoutMs: number;
  /** Delivery attempts after the first failed one. */
  readonly retries: number;
  /** Delay before the first retry, doubled each time. */
  readonly backoffMs: number;
}

export interface WebhookChannelConfig extends ChannelBase {
  readonly type: 'webhook';
  readonly url: string | null;
  readonly urlEnv: string | null;
  /** HMAC-SHA256 of the body with this secret goes in `X-Caretaker-Signature: sha256=<hex>`. */
  readonly secretEnv: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly headersEnv: Readonly<Record<string, string>>;
}

export interface SlackChannelConfig extends ChannelBase {
  readonly type: 'slack';
  readonly url: string | null;
  readonly urlEnv: string | null;
}

export interface EmailChannelConfig extends ChannelBase {
  readonly type: 'email';
  /** smtp://host:port or smtps://host:port, without credentials. */
  readonly smtp: string | null;
  readonly smtpEnv: string | null;
  readonly from: string;
  readonly to: readonly string[];
  readonly usernameEnv: string | null;
  readonly passwordEnv: string | null;
  /** auto: upgrade when offered; require: refuse to send in clear; never: plain SMTP. */
  readonly starttls: 'auto' | 'require' | 'never';
  /** Extra CA certificate(s) to trust (a private mail relay). */
  readonly caFile: string | null;
  readonly subjectPrefix: string;
}

export interface CommandChannelConfig extends ChannelBase {
  readonly type: 'command';
  readonly command: string | readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

export type ChannelConfig =
  WebhookChannelConfig | SlackChannelConfig | EmailChannelConfig | CommandChannelConfig;

// ---- policies ---------------------------------------------------------------------------------

export interface AlertPolicy {
  /** Repeat an open incident's alert at most this often; null: never repeat. */
  readonly renotifyMs: number | null;
  /** Deliveries to channels with quietHours are held inside this window, sent when it ends. */
  readonly quietHours: Window | null;
}

/** Run-time anomalies of one task. Every limit is optional (null: not checked). */
export interface AnomalyPolicy {
  /** Alert while a run goes on longer than p95 of past durations × this. */
  readonly tooLong: number | null;
  /** Alert when a run finished faster than the median of past durations × this. */
  readonly tooShort: number | null;
  /** Past successful runs needed before durations are judged. */
  readonly minRuns: number;
  readonly tooOften: { readonly max: number; readonly perMs: number } | null;
  readonly failureRate: { readonly max: number; readonly overMs: number; readonly minRuns: number } | null;
}

export interface WatchConfig {
  readonly name: string;
  readonly description: string | undefined;
  readonly owner: string | undefined;
  /** `every 1h` or a cron expression, as written. */
  readonly expect: string;
  readonly graceMs: number;
}

export interface HeartbeatConfig {
  /** The daemon writes state_dir/heartbeat.json (and pings `url`) this often. */
  readonly everyMs: number;
  /** `caretaker status` calls a heartbeat older than this stale. */
  readonly staleAfterMs: number;
  readonly url: string | null;
  readonly urlEnv: string | null;
}

/** What the notifier needs to know about a task (a structural subset of TaskConfig). */
export interface AlertTaskInfo {
  readonly id: string;
  readonly owner: string | undefined;
  readonly description: string | undefined;
  readonly anomalies: AnomalyPolicy;
}
