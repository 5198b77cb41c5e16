/**
 * The shape of caretaker.yaml, defined once: validation, the TypeScript types and the generated
 * caretaker.schema.json all come from here. Keys are written as users write them (snake_case);
 * `resolve.ts` turns the parsed file into the typed, camelCase `Config`.
 */
import { z } from 'zod';
import { CATEGORIES, PRIORITY_LEVELS } from '../core/priority.js';
import {
  alertsSchema,
  anomaliesSchema,
  channelSchema,
  heartbeatSchema,
  reportsSchema,
  watchSchema,
} from './alerting-schema.js';
import { duration, size, stringList } from '../schema/values.js';

export const MISSED_POLICIES = ['skip', 'once', 'all'] as const;
export const OVERLAP_POLICIES = ['forbid', 'queue', 'replace'] as const;

const retries = z.union(
  [
    z.number().int().min(0).max(100),
    z.strictObject({
      count: z.number().int().min(0).max(100).describe('How many times a failed run is retried.'),
      backoff: duration()
        .optional()
        .describe('Delay before the first retry, doubled each time. @default 30s'),
      max_backoff: duration().optional().describe('Upper bound of the retry delay. @default 1h'),
    }),
  ],
  { error: 'expected a number of retries, or { count, backoff, max_backoff }' },
);

const window = z.strictObject({
  hours: z
    .union([z.string(), z.number().int()], { error: 'expected local hours such as "1-5,22-23"' })
    .optional()
    .describe('Local hours a run may start in, e.g. "1-5,22-23" (1-5 = 01:00 to 05:59).'),
  days: z
    .string({ error: 'expected weekdays such as "mon-fri"' })
    .optional()
    .describe('Weekdays, e.g. "mon-fri".'),
});

/** Timing and safety settings that `defaults:` may set for every task. */
const taskDefaults = {
  timeout: duration()
    .optional()
    .describe('Longest a run may take; then its process group is killed. @default 30m'),
  kill_grace: duration({ allowZero: true })
    .optional()
    .describe('After a timeout: SIGTERM, then SIGKILL after this long. @default 10s'),
  retries: retries.optional().describe('Retries of a failed run. @default 0'),
  missed: z
    .enum(MISSED_POLICIES)
    .optional()
    .describe('What runs missed while the daemon was down or blocked by overlap become. @default once'),
  missed_max: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('Cap on catch-up runs with missed: all. @default 10'),
  queue_max: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .optional()
    .describe(
      'With overlap: queue, how many runs may wait behind the current one; a fire beyond it is skipped. @default 1',
    ),
  starting_deadline: duration()
    .optional()
    .describe('A run that cannot start within this long of its scheduled time is skipped. @default none'),
  overlap: z
    .enum(OVERLAP_POLICIES)
    .optional()
    .describe('When the previous run is still going. @default forbid'),
  jitter: duration({ allowZero: true })
    .optional()
    .describe('Random delay, fixed per task and host. @default 0'),
  cooldown: duration({ allowZero: true }).optional().describe('Minimum gap between two starts. @default 0'),
  window: window.optional().describe('Only start inside these local hours and days.'),
  anomalies: anomaliesSchema
    .optional()
    .describe('Run-time anomalies to alert on (too long, too short, too often, failure rate).'),
};

const rollback = z.union(
  [
    z.boolean(),
    z.literal('on_failure'),
    z.strictObject({
      paths: stringList('a path or glob')
        .optional()
        .describe('Files, directories or globs to snapshot, in addition to those the action declares.'),
      on_failure: z
        .boolean()
        .optional()
        .describe('Restore the point automatically when the run fails. @default false'),
    }),
  ],
  { error: 'expected true, on_failure, or { paths: [...], on_failure: true }' },
);

export const taskSchema = z.strictObject({
  description: z.string().optional(),
  owner: z.string().optional().describe('Shown in alerts and reports.'),
  action: z.string({ error: 'expected the name of an action, e.g. shell' }).min(1),
  enabled: z.boolean().optional().describe('A disabled task is kept but never scheduled. @default true'),
  schedule: z
    .string({ error: 'expected a cron expression, a nickname such as @daily, or "every 6h"' })
    .optional()
    .describe(
      'Cron (5 or 6 fields, L W # allowed), @daily-style nicknames or "every 6h". Absent: manual only.',
    ),
  timezone: z
    .string()
    .optional()
    .describe('Time zone of the schedule and window. @default the top-level timezone'),
  ...taskDefaults,
  group: z.string().optional().describe('Concurrency group; groups: caps how many of it run at once.'),
  depends_on: z
    .array(z.string(), { error: 'expected a list of task ids' })
    .optional()
    .describe('Runs after these succeed in the same cycle.'),
  priority: z.enum(PRIORITY_LEVELS).optional().describe('@default medium'),
  category: z.enum(CATEGORIES).optional(),
  impact: z
    .record(z.string(), z.number().min(0).max(100))
    .optional()
    .describe('0-100 per dimension, e.g. { performance: 40, maintainability: 60 }.'),
  effort: z
    .strictObject({
      complexity: z.number().int().min(1).max(10).optional(),
      risk: z.number().int().min(1).max(10).optional(),
    })
    .optional()
    .describe('1-10 each.'),
  scope: z
    .enum(['host', 'cluster'])
    .optional()
    .describe(
      'host: every host runs it; cluster: one host of the fleet runs each scheduled slot. @default host',
    ),
  takeover: z
    .enum(['rerun', 'skip'])
    .optional()
    .describe(
      'scope: cluster — when the host running a slot stops heartbeating: rerun the slot on another host (once), or record it skipped. @default rerun',
    ),
  rollback: rollback
    .optional()
    .describe(
      'Take a rollback point of the files this task may modify before it runs (on_failure: restore it when the run fails). @default false',
    ),
  with: z.unknown().optional().describe("The action's own options."),
});

const listen = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
  error: 'expected host:port, e.g. 127.0.0.1:8787',
});

export const configSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }),
  state_dir: z
    .string()
    .min(1)
    .optional()
    .describe('Database, logs and action state, relative to this file. @default .caretaker'),
  store: z
    .string()
    .optional()
    .describe(
      'sqlite (default), sqlite:PATH, or postgres://user@host:port/db (one history for several hosts).',
    ),
  store_env: z
    .string()
    .min(1)
    .optional()
    .describe(
      'The environment variable that holds the postgres:// URL of the store (keeps its password out of the file).',
    ),
  store_schema: z
    .string()
    .min(1)
    .max(63)
    .optional()
    .describe("The PostgreSQL schema that holds caretaker's tables. @default caretaker"),
  timezone: z.string().optional().describe('Default zone of schedules and windows. @default UTC'),
  host: z
    .string()
    .min(1)
    .optional()
    .describe('The name this host records runs under. @default os.hostname()'),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('Most runs at once on this host. @default 3'),
  groups: z
    .record(z.string(), z.number().int().min(1, { error: 'expected a group limit of at least 1' }))
    .optional()
    .describe('Per-group caps, e.g. { disk-heavy: 1 }.'),
  history: z
    .strictObject({
      keep_days: z.number().int().min(1).optional().describe('@default 90'),
      keep_runs_per_task: z.number().int().min(1).optional().describe('@default 1000'),
      output_tail: size().optional().describe('Output kept per run (the tail). @default 64KB'),
    })
    .optional(),
  defaults: z.strictObject(taskDefaults).optional(),
  lease: duration()
    .optional()
    .describe(
      'Fleet: a host silent this long is lost and its cluster slots are taken over; it heartbeats every third of it. @default 15s',
    ),
  shutdown_grace: duration({ allowZero: true })
    .optional()
    .describe('On SIGTERM, how long running tasks may finish before they are killed. @default 30s'),
  server: z
    .strictObject({
      listen: listen.optional().describe('Also serve the HTTP API on this TCP address (loopback advised).'),
      token_env: z
        .string()
        .optional()
        .describe(
          'Legacy: an environment variable holding one admin token for the TCP API (prefer `caretaker token create`). @default CARETAKER_TOKEN',
        ),
      tls: z
        .strictObject({
          cert: z.string().min(1).describe('PEM certificate (chain) file, relative to this file.'),
          key: z.string().min(1).describe('PEM private key file, relative to this file.'),
        })
        .optional()
        .describe('Serve the TCP API over HTTPS with this certificate and key.'),
    })
    .optional(),
  metrics: z
    .strictObject({
      public: z
        .boolean()
        .optional()
        .describe(
          'Serve GET /metrics on TCP without a token (Prometheus scrapes with no credentials). @default false',
        ),
      textfile: z
        .string()
        .min(1)
        .optional()
        .describe(
          "Also write the metrics to this file after each run (atomically), for node_exporter's textfile collector; relative to this file.",
        ),
    })
    .optional()
    .describe('Prometheus metrics (GET /metrics).'),
  priority: z
    .strictObject({
      weights: z
        .strictObject({
          impact: z.number().min(0).max(1).optional(),
          urgency: z.number().min(0).max(1).optional(),
          effort: z.number().min(0).max(1).optional(),
          success_rate: z.number().min(0).max(1).optional(),
        })
        .optional(),
      categories: z.partialRecord(z.enum(CATEGORIES), z.number().min(0).max(10)).optional(),
    })
    .optional(),
  max_rollback_points: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .optional()
    .describe('Rollback points kept; the oldest are deleted first. @default 50'),
  max_backup_size: size()
    .optional()
    .describe('Total size of the files kept by rollback points. @default 1GB'),
  log: z
    .strictObject({
      level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .optional()
        .describe('@default info'),
    })
    .optional(),
  notify: z
    .array(channelSchema, { error: 'expected a list of channels, e.g. - { type: webhook, url: ... }' })
    .optional()
    .describe('Where alerts go: webhook, slack, email, command.'),
  alerts: alertsSchema.optional(),
  watch: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
        error: 'expected a watch name of letters, digits, ".", "_" and "-"',
      }),
      watchSchema,
      { error: 'expected a map of watch names to { expect, grace }' },
    )
    .optional()
    .describe('Dead-man watches: external jobs that report in with `caretaker ping NAME`.'),
  heartbeat: heartbeatSchema.optional(),
  reports: reportsSchema.optional(),
  tasks: z.record(
    z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
      error: 'expected a task id of letters, digits, ".", "_" and "-"',
    }),
    taskSchema,
    { error: 'expected a map of task ids to tasks' },
  ),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawTask = z.output<typeof taskSchema>;
