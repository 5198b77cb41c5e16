/**
 * Numbered schema migrations of the PostgreSQL store, in the store's own schema. Append only: a
 * released migration is never edited, a change is a new entry. `<schema>.migrations` records
 * each applied version. All of them run in one transaction under an advisory lock, so processes
 * opening at once migrate once, and a failure leaves nothing half-migrated.
 */
import type { PoolClient } from 'pg';

/** Each migration gets the quoted schema name. Timestamps are bigint milliseconds. */
export const PG_MIGRATIONS: readonly ((s: string) => string)[] = [
  // 1: the whole SQLite schema as of its migration 3.
  (s) => `
  CREATE TABLE ${s}.runs (
    id            bigserial PRIMARY KEY,
    task          text    NOT NULL,
    host          text    NOT NULL,
    trigger       text    NOT NULL,
    scheduled_for bigint,
    not_before    bigint,
    queued_at     bigint  NOT NULL,
    started_at    bigint,
    finished_at   bigint,
    status        text    NOT NULL,
    attempt       integer NOT NULL DEFAULT 1,
    exit_code     integer,
    duration_ms   bigint,
    output_tail   text,
    result        jsonb,
    reason        text,
    dry_run       boolean NOT NULL DEFAULT false,
    pid           integer,
    child_pgid    integer,
    child_started text
  );
  CREATE INDEX runs_by_task ON ${s}.runs (task, id);
  CREATE INDEX runs_active ON ${s}.runs (host, status) WHERE status IN ('queued', 'running');
  CREATE INDEX runs_by_finish ON ${s}.runs (finished_at);
  CREATE INDEX runs_failures ON ${s}.runs (id) WHERE status IN ('failed', 'timeout', 'interrupted');

  CREATE TABLE ${s}.task_state (
    task                 text    NOT NULL,
    host                 text    NOT NULL,
    last_fire            bigint,
    last_started_at      bigint,
    last_finished_at     bigint,
    last_status          text,
    last_run_id          bigint,
    last_success_at      bigint,
    last_failure_at      bigint,
    consecutive_failures integer NOT NULL DEFAULT 0,
    PRIMARY KEY (task, host)
  );

  CREATE TABLE ${s}.run_stats_daily (
    task      text    NOT NULL,
    day       integer NOT NULL,
    runs      bigint  NOT NULL DEFAULT 0,
    successes bigint  NOT NULL DEFAULT 0,
    failures  bigint  NOT NULL DEFAULT 0,
    total_ms  bigint  NOT NULL DEFAULT 0,
    max_ms    bigint  NOT NULL DEFAULT 0,
    histogram jsonb   NOT NULL DEFAULT '{}',
    PRIMARY KEY (day, task)
  );

  CREATE TABLE ${s}.meta (key text PRIMARY KEY, value text NOT NULL);

  CREATE TABLE ${s}.sample_keys (
    id     serial PRIMARY KEY,
    task   text NOT NULL,
    key    text NOT NULL,
    unit   text,
    better text,
    UNIQUE (task, key)
  );
  CREATE TABLE ${s}.samples (
    key_id integer NOT NULL,
    at     bigint  NOT NULL,
    value  double precision NOT NULL,
    PRIMARY KEY (key_id, at)
  );
  CREATE INDEX samples_by_time ON ${s}.samples (at);

  CREATE TABLE ${s}.incidents (
    id               bigserial PRIMARY KEY,
    key              text    NOT NULL,
    subject_kind     text    NOT NULL,
    subject_id       text    NOT NULL,
    event            text    NOT NULL,
    level            text    NOT NULL,
    opened_at        bigint  NOT NULL,
    last_seen_at     bigint  NOT NULL,
    last_notified_at bigint,
    occurrences      integer NOT NULL DEFAULT 1,
    notifications    integer NOT NULL DEFAULT 0,
    message          text    NOT NULL DEFAULT '',
    one_shot         boolean NOT NULL DEFAULT false,
    closed_at        bigint
  );
  CREATE UNIQUE INDEX incidents_open ON ${s}.incidents (key) WHERE closed_at IS NULL;
  CREATE INDEX incidents_by_open ON ${s}.incidents (opened_at);

  CREATE TABLE ${s}.deliveries (
    id          bigserial PRIMARY KEY,
    incident_id bigint,
    channel     text    NOT NULL,
    event       text    NOT NULL,
    status      text    NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  bigint  NOT NULL,
    finished_at bigint,
    error       text,
    payload     text
  );
  CREATE INDEX deliveries_by_incident ON ${s}.deliveries (incident_id, channel);
  CREATE INDEX deliveries_held ON ${s}.deliveries (status) WHERE status = 'held';
  CREATE INDEX deliveries_by_time ON ${s}.deliveries (created_at);

  CREATE TABLE ${s}.pings (
    id      bigserial PRIMARY KEY,
    name    text    NOT NULL,
    at      bigint  NOT NULL,
    ok      boolean NOT NULL,
    source  text,
    message text
  );
  CREATE INDEX pings_by_name ON ${s}.pings (name, at);
  `,
  // 2: fleet coordination (FleetStore), as SQLite's migration 5: hosts and their heartbeats, the
  // claims of cluster task slots, and each claim an instance lost until its heartbeat is told.
  (s) => `
  CREATE TABLE ${s}.hosts (
    name         text    PRIMARY KEY,
    instance     text    NOT NULL,
    version      text    NOT NULL,
    pid          integer NOT NULL,
    started_at   bigint  NOT NULL,
    last_seen_at bigint  NOT NULL,
    lease_ms     bigint  NOT NULL,
    tasks        jsonb   NOT NULL DEFAULT '[]',
    stopped_at   bigint
  );

  CREATE TABLE ${s}.claims (
    task        text    NOT NULL,
    slot        bigint  NOT NULL,
    host        text    NOT NULL,
    instance    text    NOT NULL,
    run_id      bigint,
    claimed_at  bigint  NOT NULL,
    lease_until bigint  NOT NULL,
    state       text    NOT NULL,
    takeovers   integer NOT NULL DEFAULT 0,
    reason      text,
    PRIMARY KEY (task, slot)
  );
  -- expiredClaims, and the heartbeat's renewal of one instance's held claims.
  CREATE INDEX claims_expiring ON ${s}.claims (lease_until) WHERE state = 'held';
  CREATE INDEX claims_held_by ON ${s}.claims (instance) WHERE state = 'held';
  CREATE INDEX claims_by_slot ON ${s}.claims (slot);

  CREATE TABLE ${s}.claim_losses (
    instance text   NOT NULL,
    task     text   NOT NULL,
    slot     bigint NOT NULL,
    PRIMARY KEY (instance, task, slot)
  );
  `,
  // 3: one open incident per key, as SQLite's migration 6: the hosts of a fleet that see the same
  // problem at once open one incident; duplicates an older version left are closed first.
  (s) => `
  UPDATE ${s}.incidents SET closed_at = last_seen_at
    WHERE closed_at IS NULL AND id NOT IN (SELECT max(id) FROM ${s}.incidents WHERE closed_at IS NULL GROUP BY key);
  CREATE UNIQUE INDEX incidents_open_key ON ${s}.incidents (key) WHERE closed_at IS NULL;
  `,
  // 4: API tokens and the append-only audit log, as SQLite's migration 7.
  (s) => `
  CREATE TABLE ${s}.tokens (
    name         text   PRIMARY KEY,
    role         text   NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash         text   NOT NULL UNIQUE,
    created_at   bigint NOT NULL,
    expires_at   bigint,
    last_used_at bigint,
    revoked_at   bigint,
    tasks        text
  );

  CREATE TABLE ${s}.audit (
    id      bigserial PRIMARY KEY,
    at      bigint NOT NULL,
    actor   text   NOT NULL,
    source  text   NOT NULL,
    action  text   NOT NULL,
    target  text,
    outcome text   NOT NULL CHECK (outcome IN ('ok', 'refused', 'failed')),
    detail  text
  );
  CREATE INDEX audit_by_time ON ${s}.audit (at);
  -- Append-only: the database itself refuses to change or delete a row.
  CREATE FUNCTION ${s}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'the audit log is append-only'; END$$;
  CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON ${s}.audit
    FOR EACH ROW EXECUTE FUNCTION ${s}.audit_append_only();
  `,
  // 5: paused tasks (PausesStore), as SQLite's migration 8: one row per task, so a pause holds on
  // every host of the fleet.
  (s) => `
  CREATE TABLE ${s}.pauses (
    task      text   PRIMARY KEY,
    paused_by text   NOT NULL,
    reason    text,
    paused_at bigint NOT NULL
  );
  `,
  // 6: lifetime totals per task, host and final status, as SQLite's migration 9.
  (s) => `
  CREATE TABLE ${s}.run_totals (
    task      text   NOT NULL,
    host      text   NOT NULL,
    status    text   NOT NULL,
    runs      bigint NOT NULL DEFAULT 0,
    missed    bigint NOT NULL DEFAULT 0,
    total_ms  bigint NOT NULL DEFAULT 0,
    durations jsonb  NOT NULL DEFAULT '{}',
    PRIMARY KEY (task, host, status)
  );
  INSERT INTO ${s}.run_totals (task, host, status, runs, total_ms, durations)
    SELECT task, host, status, sum(n), sum(ms), jsonb_object_agg(b::text, n) FROM (
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
          ELSE 14 END AS b, count(*) AS n, coalesce(sum(duration_ms), 0) AS ms FROM ${s}.runs
        WHERE finished_at IS NOT NULL AND NOT dry_run AND trigger NOT IN ('rollback', 'restore')
          AND status NOT IN ('queued', 'running')
        GROUP BY task, host, status, b) x
    GROUP BY task, host, status;
  `,
  // 7: the history prune's per-task count from an index, as SQLite's migration 4 (migration 1
  // copied SQLite's schema as of its migration 3, so PostgreSQL never had it).
  (s) => `
  CREATE INDEX IF NOT EXISTS runs_by_task_status ON ${s}.runs (task, status);
  `,
];

/**
 * Brings the schema to the latest version inside the caller's transaction. The advisory lock is
 * per schema and held until that transaction ends. Returns the version reached.
 */
export async function migrate(client: PoolClient, schema: string, s: string): Promise<number> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
    `caretaker migrate ${schema}`,
  ]);
  // Look first: CREATE SCHEMA IF NOT EXISTS still needs the right to create one.
  const exists = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
  if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${s}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)`,
  );
  const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.migrations`);
  const current = r.rows[0]?.v ?? 0;
  if (current > PG_MIGRATIONS.length)
    throw new NewerSchemaError(
      `schema ${schema} is at version ${current}, newer than this caretaker knows (${PG_MIGRATIONS.length})`,
    );
  for (let v = current + 1; v <= PG_MIGRATIONS.length; v++) {
    await client.query(PG_MIGRATIONS[v - 1]!(s));
    await client.query(`INSERT INTO ${s}.migrations (version, applied_at) VALUES ($1, $2)`, [v, Date.now()]);
  }
  return PG_MIGRATIONS.length;
}

export class NewerSchemaError extends Error {}
