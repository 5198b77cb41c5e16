/**
 * What `caretaker init` writes: a commented caretaker.yaml with the standard maintenance set of a
 * service host (presets `standard`, `web-service`) or of a code repository (`ci`). A task whose
 * action is not available in this build is written commented out, with a note, so the same
 * template fills in as actions land.
 */
export interface StandardTask {
  readonly id: string;
  readonly action: string;
  readonly comment: string;
  /** The task's YAML body (indented under its id). */
  readonly body: string;
  /** Used instead when `action` is not available (a working stand-in), if any. */
  readonly fallback?: { readonly action: string; readonly comment: string; readonly body: string };
  /** The presets that include this task. @default the service presets: standard, web-service */
  readonly presets?: readonly Preset[];
}

export const PRESETS = ['standard', 'web-service', 'ci'] as const;
export type Preset = (typeof PRESETS)[number];
const SERVICE_PRESETS: readonly Preset[] = ['standard', 'web-service'];

const DISK_CHECK = `df -P . | awk 'NR==2 { sub("%","",$5); if ($5+0 >= 90) { print "disk " $5 "% full"; exit 1 } print "disk " $5 "% used" }'`;

export const STANDARD_TASKS: readonly StandardTask[] = [
  {
    id: 'rotate-logs',
    action: 'rotate-logs',
    comment: 'Rotate and compress the application logs every night (logrotate semantics).',
    body: `description: Rotate the application's logs
action: rotate-logs
schedule: "0 2 * * *"
category: log_management
with:
  paths: ["logs/*.log"]
  rotate: 7
  compress: true
  missingok: true`,
  },
  {
    id: 'prune-cache',
    action: 'prune-files',
    comment: 'Every hour, remove cache files older than a week and keep the cache under 1GB.',
    body: `description: Keep the cache small
action: prune-files
schedule: "@hourly"
category: cache
with:
  paths: ["cache"]
  older_than: 7d
  max_total_size: 1GB`,
  },
  {
    id: 'health-check',
    action: 'health',
    comment: 'Every 6 hours: disk, memory and load.',
    body: `description: Disk, memory and load
action: health
schedule: "0 */6 * * *"
category: health
with:
  disk: [{ path: ".", warn: 80%, fail: 90% }]
  memory: [{ warn: 90%, fail: 95% }]`,
    fallback: {
      action: 'shell',
      comment: 'Every 6 hours: fail when the disk holding this directory is 90% full.',
      body: `description: Disk space of this directory's filesystem
action: shell
schedule: "0 */6 * * *"
category: health
with:
  command: >-
    ${DISK_CHECK}`,
    },
  },
  {
    id: 'backup-data',
    action: 'backup',
    comment: 'Every night, archive the data directory with checksums; keep 7 daily, 4 weekly, 6 monthly.',
    body: `description: Nightly backup of the data directory
action: backup
schedule: "30 1 * * *"
category: backup
with:
  paths: ["data"]
  dest: backups
  keep: { daily: 7, weekly: 4, monthly: 6 }
  verify: true
  # A copy off this host, encrypted so the bucket never sees the files (docs/actions/backup.md):
  # copies: [{ to: "s3://my-bucket/this-host", region: eu-central-1, access_key_env: S3_KEY, secret_key_env: S3_SECRET, keep: { daily: 14 } }]
  #   or an SFTP server: { to: "sftp://backup@vault.internal:22/srv/backups/this-host", key_file: /etc/caretaker/id_ed25519, known_hosts: /etc/caretaker/known_hosts, keep: { last: 7 } }
  # encrypt: { recipients: ["age1..."] }   # age-keygen -y key.txt prints it; keep key.txt elsewhere`,
  },
  {
    id: 'verify-backups',
    action: 'verify-backups',
    comment: 'Every Sunday, re-read the newest backups and check every checksum.',
    body: `description: Prove the backups are readable
action: verify-backups
schedule: "0 4 * * sun"
category: backup
with:
  dest: backups
  latest: 3`,
  },
  {
    id: 'scan-logs',
    action: 'scan-logs',
    comment: 'Every hour, count errors in the logs since the last scan; fail over 100.',
    body: `description: Error spikes in the logs
action: scan-logs
schedule: "15 * * * *"
category: log_management
with:
  paths: ["logs/*.log"]
  thresholds: { errors: 100 }`,
  },
  {
    id: 'audit-deps',
    action: 'audit-deps',
    comment: 'On the first of each month, outdated packages and security advisories.',
    body: `description: Outdated and vulnerable dependencies
action: audit-deps
schedule: "0 9 1 * *"
category: security
with:
  manager: npm
  severity: high`,
  },
  {
    id: 'api-health',
    action: 'http',
    comment: "Every 5 minutes, the service's own health endpoint. Set the URL, then enable it.",
    presets: ['web-service'],
    body: `description: The API answers its health check
action: http
schedule: "*/5 * * * *"
enabled: false
category: health
priority: high
retries: { count: 2, backoff: 10s }
with:
  url: "http://127.0.0.1:8080/health"
  expect_status: 200
  timeout: 5s`,
  },
  // A repository's own upkeep (preset ci): nightly on a build host, or one task per CI step with
  // `caretaker run-task ID --wait` (annotations appear by themselves in GitHub Actions).
  {
    id: 'code-quality',
    action: 'code-quality',
    comment: 'Every night: lint, type-check and format-check the repository.',
    presets: ['ci'],
    body: `description: Lint, types and formatting
action: code-quality
schedule: "0 3 * * *"
with:
  tools: [eslint, tsc, prettier]
  # Apply the tools' fixes, keep them only if the tests still pass:
  # fix: true
  # verify: npm test`,
  },
  {
    id: 'test-health',
    action: 'test-health',
    comment: 'Every night: run the tests; failures, flaky tests and coverage against a floor.',
    presets: ['ci'],
    body: `description: Tests, flaky tests and coverage
action: test-health
schedule: "30 3 * * *"
timeout: 1h
with:
  command: npm test
  junit: "reports/*.xml"
  coverage: coverage/coverage-summary.json
  min_coverage: 80`,
  },
  {
    id: 'docs-check',
    action: 'docs-check',
    comment: 'Every night: broken relative links, anchors and images in the Markdown docs.',
    presets: ['ci'],
    body: `description: Links and anchors in the docs
action: docs-check
schedule: "0 4 * * *"
with:
  paths: ["**/*.md"]
  # Also check http(s) links (results cached for a week):
  # external: true`,
  },
  {
    id: 'license-check',
    action: 'license-check',
    comment: "Every Monday: the installed dependencies' licences against an allow list.",
    presets: ['ci'],
    body: `description: Dependency licences
action: license-check
schedule: "0 5 * * mon"
with:
  manager: npm
  allow: [MIT, ISC, BSD-2-Clause, BSD-3-Clause, Apache-2.0, 0BSD, BlueOak-1.0.0, CC0-1.0, Unlicense]`,
  },
];

/** Service presets: how the same file becomes a fleet's (docs/fleet.md). */
const FLEET_HINT = `# Several hosts? Put the history on PostgreSQL, run caretaker on each (docs/fleet.md),
# and mark the tasks that must run once per fleet (a database vacuum, a shared backup)
# with scope: cluster.
# store_env: CARETAKER_STORE_URL   # postgres://user:password@db.internal/ops
# host: web-1                      # this daemon's name in the fleet (default: the host name)
`;

/** Service presets: the HTTP API with tokens, and metrics for Prometheus (docs/access.md, docs/metrics.md). */
const SERVER_HINT = `
# The HTTP API and /metrics on TCP; every request but /healthz needs a token:
#   caretaker token create grafana --role viewer --expires 90d
# server: { listen: 127.0.0.1:8787 }   # tls: { cert: cert.pem, key: key.pem } serves HTTPS
# metrics: { textfile: /var/lib/node_exporter/textfile/caretaker.prom }   # for node_exporter
`;

const indent = (text: string, by: string) =>
  text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');

export function renderInitConfig(
  preset: Preset,
  available: ReadonlySet<string>,
): { text: string; active: number; commented: number } {
  let active = 0;
  let commented = 0;
  const blocks: string[] = [];
  for (const t of STANDARD_TASKS) {
    if (!(t.presets ?? SERVICE_PRESETS).includes(preset)) continue;
    if (available.has(t.action)) {
      blocks.push(`  # ${t.comment}\n  ${t.id}:\n${indent(t.body, '    ')}`);
      active++;
    } else if (t.fallback && available.has(t.fallback.action)) {
      blocks.push(
        `  # ${t.fallback.comment}\n  # (A stand-in until the ${t.action} action is available in this build.)\n  ${t.id}:\n${indent(t.fallback.body, '    ')}`,
      );
      active++;
    } else {
      blocks.push(
        `  # ${t.comment}\n  # Not available in this build of caretaker yet (action: ${t.action}); uncomment once it is.\n${indent(`${t.id}:\n${indent(t.body, '  ')}`, '  # ')}`,
      );
      commented++;
    }
  }
  const subject = preset === 'ci' ? 'repository' : 'service';
  const text = `# caretaker.yaml — maintenance tasks for this ${subject} (preset: ${preset}).
# Check it with \`caretaker validate\`, run the scheduler with \`caretaker start --daemon\`.
# Relative paths resolve against this file's directory. Durations: 500ms 30s 10m 6h 7d 2w.
# Sizes: 512KB 10MB 1GB. Schedules: cron (5 or 6 fields, L W #), @daily, or "every 6h".
version: 1

# Database, logs and per-task state live here${preset === 'ci' ? ' (add it to .gitignore)' : ''}.
state_dir: .caretaker
${preset === 'ci' ? '' : FLEET_HINT}timezone: UTC
# At most this many tasks run at once; groups cap heavy kinds of work further.
concurrency: 3
groups: { disk-heavy: 1 }
history: { keep_days: 90, keep_runs_per_task: 1000 }
defaults:
  timeout: 30m
  retries: 0
  missed: once        # a run missed while caretaker was down runs once when it is back
${preset === 'ci' ? '' : SERVER_HINT}
tasks:${active === 0 ? ' {}' : ''}
${blocks.join('\n\n')}
`;
  return { text, active, commented };
}
