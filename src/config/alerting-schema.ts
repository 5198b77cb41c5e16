/**
 * The alerting sections of caretaker.yaml: `notify:` (channels), `alerts:` (renotify, quiet
 * hours), `watch:` (dead-man watches), `heartbeat:`, `reports:` and a task's `anomalies:`.
 * Secrets are only ever named (`*_env`), never written in the file.
 */
import { z } from 'zod';
import { ALERT_EVENTS } from '../notify/types.js';
import { duration, envMap } from '../schema/values.js';
import { percent, rateLimit } from '../schema/thresholds.js';

const httpUrl = z.url({ error: 'expected an http:// or https:// URL', protocol: /^https?$/ });
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the name of an environment variable' });

const channelCommon = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'expected a name of letters, digits, ".", "_" and "-"' })
    .optional()
    .describe('Shown in logs and `caretaker status`. @default the type, numbered when repeated'),
  on: z
    .array(z.enum(ALERT_EVENTS), { error: `expected a list of events: ${ALERT_EVENTS.join(', ')}` })
    .min(1)
    .optional()
    .describe('Events this channel receives. @default every event'),
  tasks: z
    .array(z.string().min(1), { error: 'expected a list of task ids and watch names' })
    .optional()
    .describe('Only alerts about these tasks and watches. @default all'),
  quiet_hours: z
    .boolean()
    .optional()
    .describe('Hold alerts during alerts.quiet_hours and send them when it ends. @default true'),
  timeout: duration().optional().describe('One delivery attempt may take this long. @default 10s'),
  retries: z.number().int().min(0).max(20).optional().describe('Attempts after a failed one. @default 3'),
  backoff: duration().optional().describe('Delay before the first retry, doubled each time. @default 2s'),
};

const webhook = z.strictObject({
  type: z.literal('webhook'),
  url: httpUrl.optional().describe('Where the JSON is POSTed (or url_env).'),
  url_env: envName.optional().describe('Environment variable holding the URL (when it carries a token).'),
  secret_env: envName
    .optional()
    .describe('Environment variable holding the HMAC-SHA256 signing secret (X-Caretaker-Signature).'),
  headers: z.record(z.string(), z.string()).optional(),
  headers_env: z
    .record(z.string(), envName)
    .optional()
    .describe('Headers whose values come from environment variables, e.g. { Authorization: HOOK_AUTH }.'),
  ...channelCommon,
});

const slack = z.strictObject({
  type: z.literal('slack'),
  url: httpUrl.optional().describe('The incoming-webhook URL (better: url_env, the URL is a secret).'),
  url_env: envName.optional(),
  ...channelCommon,
});

const email = z.strictObject({
  type: z.literal('email'),
  smtp: z
    .string()
    .regex(/^smtps?:\/\/[^/@\s]+(:\d+)?\/?$/, {
      error:
        'expected smtp://host:port or smtps://host:port, without a user or password (use username_env and password_env)',
    })
    .optional(),
  smtp_env: envName.optional().describe('Environment variable holding the SMTP URL.'),
  from: z.string().min(3).optional().describe('@default caretaker@<host>'),
  to: z
    .union([z.string().min(3), z.array(z.string().min(3)).min(1)], {
      error: 'expected an address or a list of them',
    })
    .transform((v) => (typeof v === 'string' ? [v] : v)),
  username_env: envName.optional(),
  password_env: envName.optional(),
  starttls: z
    .enum(['auto', 'require', 'never'])
    .optional()
    .describe('auto: upgrade when offered; require: never send in clear. @default auto'),
  ca_file: z.string().optional().describe('A CA certificate (PEM) to trust, for a private mail relay.'),
  subject_prefix: z.string().optional().describe('@default [caretaker]'),
  ...channelCommon,
});

const command = z.strictObject({
  type: z.literal('command'),
  command: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: 'expected a command line (run by /bin/sh) or a list [program, arg, ...]',
  }),
  cwd: z.string().optional().describe('@default the config file directory'),
  env: envMap().optional(),
  ...channelCommon,
});

export const channelSchema = z.discriminatedUnion('type', [webhook, slack, email, command], {
  error: 'expected a channel with type: webhook, slack, email or command',
});

export const alertsSchema = z.strictObject({
  renotify: z
    .union([duration(), z.literal(false)], { error: 'expected a duration such as 6h, or false' })
    .optional()
    .describe('Repeat the alert of a still-open incident at most this often; false: never. @default 6h'),
  quiet_hours: z
    .strictObject({
      hours: z.union([z.string(), z.number().int()], { error: 'expected local hours such as "22-6"' }),
      days: z.string().optional(),
      timezone: z.string().optional().describe('@default the top-level timezone'),
    })
    .optional()
    .describe('Hold alerts inside these local hours; they are sent, collapsed, when the window ends.'),
});

export const watchSchema = z.strictObject({
  expect: z
    .string({ error: 'expected "every 1h" or a cron expression' })
    .describe('How often a ping is due: "every 1h" (at most 1h between pings) or a cron expression.'),
  grace: duration({ allowZero: true }).optional().describe('Extra time after the deadline. @default 5m'),
  description: z.string().optional(),
  owner: z.string().optional(),
});

export const heartbeatSchema = z.strictObject({
  every: duration().optional().describe('@default 1m'),
  stale_after: duration().optional().describe('@default 3 × every'),
  url: httpUrl
    .optional()
    .describe('Pinged (GET) at every heartbeat, so a dead daemon is noticed from outside.'),
  url_env: envName.optional(),
});

export const reportsSchema = z.strictObject({
  keep: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Health reports kept in state_dir/reports (the oldest are deleted). @default 200'),
});

export const anomaliesSchema = z.union(
  [
    z.literal(false),
    z.strictObject({
      too_long: z
        .union([z.number().min(1), z.literal(false)])
        .optional()
        .describe('Alert while a run lasts longer than p95 × this. @default 3'),
      too_short: z
        .union([z.number().gt(0).max(1), z.literal(false)])
        .optional()
        .describe('Alert when a run finishes under median × this (e.g. 0.1). @default off'),
      min_runs: z.number().int().min(1).optional().describe('History needed first. @default 10'),
      too_often: rateLimit().optional().describe('Alert when more runs start than "N in <duration>".'),
      failure_rate: z
        .strictObject({
          max: percent().describe('e.g. 50%'),
          over: duration().optional().describe('@default 24h'),
          min_runs: z.number().int().min(1).optional().describe('@default 4'),
        })
        .optional()
        .describe('Alert when more than this share of runs failed over the window.'),
    }),
  ],
  { error: 'expected false or { too_long, too_short, min_runs, too_often, failure_rate }' },
);
