/**
 * Numbered schema migrations. Append only: a released migration is never edited, a change is a
 * new entry. `PRAGMA user_version` records how far a database has come.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: runs, per-task state, daily rollups, key/value meta.
  `
  CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    task          TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    trigger       TEXT    NOT NULL,
    scheduled_for INTEGER,
    not_before    INTEGER,
    queued_at     INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    status        TEXT    NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 1,
    exit_code     INTEGER,
    duration_ms   INTEGER,
    output_tail   TEXT,
    result_json   TEXT,
    reason        TEXT,
    dry_run       INTEGER NOT NULL DEFAULT 0,
    pid           INTEGER
  );
  CREATE INDEX runs_by_task ON runs (task, id);
  CREATE INDEX runs_active ON runs (host, status) WHERE status IN ('queued', 'running');
  CREATE INDEX runs_by_finish ON runs (finished_at);

  CREATE TABLE task_state (
    task                 TEXT    NOT NULL,
    host                 TEXT    NOT NULL,
    last_fire            INTEGER,
    last_started_at      INTEGER,
    last_finished_at     INTEGER,
    last_status          TEXT,
    last_run_id          INTEGER,
    last_success_at      INTEGER,
    last_failure_at      INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task, host)
  ) WITHOUT ROWID;

  CREATE TABLE run_stats_daily (
    task      TEXT    NOT NULL,
    day       INTEGER NOT NULL,
    runs      INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0,
    failures  INTEGER NOT NULL DEFAULT 0,
    total_ms  INTEGER NOT NULL DEFAULT 0,
    max_ms    INTEGER NOT NULL DEFAULT 0,
    histogram TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (day, task)
  ) WITHOUT ROWID;

  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  `,
  // 2: the process group a run started (to end an orphan after a crash); last failures by index.
  `
  ALTER TABLE runs ADD COLUMN child_pgid INTEGER;
  ALTER TABLE runs ADD COLUMN child_started TEXT;
  -- "last failures" (caretaker status) without scanning a history that has none.
  CREATE INDEX runs_failures ON runs (id) WHERE status IN ('failed', 'timeout', 'interrupted');
  `,
  // 3: health samples (one row per measured value, keyed by a small integer), alert incidents and
  // their deliveries, dead-man pings.
  `
  CREATE TABLE sample_keys (
    id     INTEGER PRIMARY KEY,
    task   TEXT NOT NULL,
    key    TEXT NOT NULL,
    unit   TEXT,
    better TEXT,
    UNIQUE (task, key)
  );
  CREATE TABLE samples (
    key_id INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    value  REAL    NOT NULL,
    PRIMARY KEY (key_id, at)
  ) WITHOUT ROWID;
  CREATE INDEX samples_by_time ON samples (at);

  CREATE TABLE incidents (
    id               INTEGER PRIMARY KEY,
    key              TEXT    NOT NULL,
    subject_kind     TEXT    NOT NULL,
    subject_id       TEXT    NOT NULL,
    event            TEXT    NOT NULL,
    level            TEXT    NOT NULL,
    opened_at        INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    last_notified_at INTEGER,
    occurrences      INTEGER NOT NULL DEFAULT 1,
    notifications    INTEGER NOT NULL DEFAULT 0,
    message          TEXT    NOT NULL DEFAULT '',
    one_shot         INTEGER NOT NULL DEFAULT 0,
    closed_at        INTEGER
  );
  CREATE UNIQUE INDEX incidents_open ON incidents (key) WHERE closed_at IS NULL;
  CREATE INDEX incidents_by_open ON incidents (opened_at);

  CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER,
    channel     TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER,
    error       TEXT,
    payload     TEXT
  );
  CREATE INDEX deliveries_by_incident ON deliveries (incident_id, channel);
  CREATE INDEX deliveries_held ON deliveries (status) WHERE status = 'held';
  CREATE INDEX deliveries_by_time ON deliveries (created_at);

  CREATE TABLE pings (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    ok      INTEGER NOT NULL,
    source  TEXT,
    message TEXT
  );
  CREATE INDEX pings_by_name ON pings (name, at);
  `,
  // 4: the history prune's per-task count (`overCount`: finished runs per task, GROUP BY task)
  // answered from a covering index instead of a lookup of every row's status in the table: a
  // daemon's first prune over 200,000 runs read the whole table.
  `
  CREATE INDEX runs_by_task_status ON runs (task, status);
  `,
  // 5: fleet coordination (FleetStore): hosts and their heartbeats, the claims of cluster task
  // slots, and each claim an instance lost to a takeover until its heartbeat has been told.
  `
  CREATE TABLE hosts (
    name         TEXT    PRIMARY KEY,
    instance     TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    lease_ms     INTEGER NOT NULL,
    tasks        TEXT    NOT NULL DEFAULT '[]',
    stopped_at   INTEGER
  ) WITHOUT ROWID;

  CREATE TABLE claims (
    task        TEXT    NOT NULL,
    slot        INTEGER NOT NULL,
    host        TEXT    NOT NULL,
    instance    TEXT    NOT NULL,
    run_id      INTEGER,
    claimed_at  INTEGER NOT NULL,
    lease_until INTEGER NOT NULL,
    state       TEXT    NOT NULL,
    takeovers   INTEGER NOT NULL DEFAULT 0,
    reason      TEXT,
    PRIMARY KEY (task, slot)
  ) WITHOUT ROWID;
  -- expiredClaims, and the heartbeat's renewal of one instance's held claims.
  CREATE INDEX claims_expiring ON claims (lease_until) WHERE state = 'held';
  CREATE INDEX claims_held_by ON claims (instance) WHERE state = 'held';
  CREATE INDEX claims_by_slot ON claims (slot);

  CREATE TABLE claim_losses (
    instance TEXT    NOT NULL,
    task     TEXT    NOT NULL,
    slot     INTEGER NOT NULL,
    PRIMARY KEY (instance, task, slot)
  ) WITHOUT ROWID;
  `,
  // 6: one open incident per key, even when several processes (the hosts of a fleet, a CLI beside
  // the daemon) see the same problem at once; duplicates an older version left are closed first.
  `
  UPDATE incidents SET closed_at = last_seen_at
    WHERE closed_at IS NULL AND id NOT IN (SELECT max(id) FROM incidents WHERE closed_at IS NULL GROUP BY key);
  CREATE UNIQUE INDEX incidents_open_key ON incidents (key) WHERE closed_at IS NULL;
  `,
  // 7: API tokens (their SHA-256 only) and the append-only audit log (AccessStore).
  `
  CREATE TABLE tokens (
    name         TEXT    PRIMARY KEY,
    role         TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    tasks        TEXT
  ) WITHOUT ROWID;

  CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    source  TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT,
    outcome TEXT    NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    detail  TEXT
  );
  CREATE INDEX audit_by_time ON audit (at);
  -- Append-only: the database itself refuses to change or delete a row.
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  // 8: paused tasks (PausesStore): one row per task, whatever the host.
  `
  CREATE TABLE pauses (
    task      TEXT    PRIMARY KEY,
    paused_by TEXT    NOT NULL,
    reason    TEXT,
    paused_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 9: lifetime totals per task, host and final status (Prometheus counters: never pruned, so they
  // only go up), with durations in fixed buckets; started from the runs kept.
  `
  CREATE TABLE run_totals (
    task      TEXT    NOT NULL,
    host      TEXT    NOT NULL,
    status    TEXT    NOT NULL,
    runs      INTEGER NOT NULL DEFAULT 0,
    missed    INTEGER NOT NULL DEFAULT 0,
    total_ms  INTEGER NOT NULL DEFAULT 0,
    durations TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (task, host, status)
  ) WITHOUT ROWID;
  INSERT INTO run_totals (task, host, status, runs, total_ms, durations)
    SELECT task, host, status, sum(n), sum(ms), json_group_object(b, n) FROM (
      SELECT task, host, status, CASE
          WHEN coalesce(duration_ms, 0) <= 100 THEN 0
          WHEN coalesce(duration_ms, 0) <= 500 THEN 1
          WHEN coalesce(duration_ms, 0) <= 1000 THEN 2
          WHEN coalesce(duration_ms, 0) <= 5000 THEN 3
          WHEN coalesce(duration_ms, 0) <= 10000 THEN 4
          WHEN coalesce(duration_ms, 0) <= 30000 THEN 5
          WHEN coalesce(duration_ms, 0) <= 60000 THEN 6
          WHEN coalesce(duration_ms, 0) <= 300000 THEN 7
          WHEN coalesce(duration_ms, 0) <= 600000 THEN 8
          WHEN coalesce(duration_ms, 0) <= 1800000 THEN 9
          WHEN coalesce(duration_ms, 0) <= 3600000 THEN 10
          WHEN coalesce(duration_ms, 0) <= 7200000 THEN 11
          WHEN coalesce(duration_ms, 0) <= 21600000 THEN 12
          WHEN coalesce(duration_ms, 0) <= 86400000 THEN 13
          ELSE 14 END AS b, count(*) AS n, coalesce(sum(duration_ms), 0) AS ms FROM runs
        WHERE finished_at IS NOT NULL AND dry_run = 0 AND trigger NOT IN ('rollback', 'restore')
          AND status NOT IN ('queued', 'running')
        GROUP BY task, host, status, b)
    GROUP BY task, host, status;
  `,
];
