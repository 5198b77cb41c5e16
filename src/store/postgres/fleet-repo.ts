/**
 * Fleet coordination in PostgreSQL: hosts, their heartbeats, and the claims of cluster task
 * slots, shared by every host of the fleet. Each decision is one statement, so concurrent hosts
 * agree through PostgreSQL's row locks alone: a claim is an INSERT … ON CONFLICT DO NOTHING (one
 * insert wins the unique (task, slot)); a takeover is an UPDATE whose WHERE names the expired
 * holder (under READ COMMITTED a second updater waits for the first, re-reads the row and no
 * longer matches); a heartbeat's renewal and a takeover of the same claim serialize on its row,
 * so either the lease was renewed first and the takeover finds it unexpired, or the takeover was
 * first and the renewal finds the claim no longer this instance's.
 *
 * A takeover records the claim its old holder lost in `claim_losses`, in the same statement;
 * that instance's next heartbeat deletes and returns those rows, so each lost claim is reported
 * to its loser once, however often the slot changed hands meanwhile.
 */
import type { ClaimRecord, HostRecord, HostRegistration, SlotKey } from '../types.js';
import { sortSlots, toClaim, toHost, type ClaimRow, type HostRow } from '../fleet-rows.js';
import type { PgDatabase } from './pg-database.js';

/** Claims deleted per statement, so a prune never holds many row locks at once. */
const PRUNE_BATCH = 5000;

export class PgFleetRepo {
  readonly #db: PgDatabase;
  readonly #sql;

  constructor(db: PgDatabase) {
    this.#db = db;
    const s = db.s;
    this.#sql = {
      // The name is taken over only from a holder that is this instance, stopped, or lost. A
      // conflicting insert waits for a concurrent one to commit, then re-checks this condition.
      register: `INSERT INTO ${s}.hosts AS h (name, instance, version, pid, started_at, last_seen_at, lease_ms, tasks, stopped_at)
        VALUES ($1, $2, $3, $4, $5, $5, $6, $7::jsonb, NULL)
        ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, version = excluded.version, pid = excluded.pid,
          started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, lease_ms = excluded.lease_ms,
          tasks = excluded.tasks, stopped_at = NULL
        WHERE h.instance = excluded.instance OR h.stopped_at IS NOT NULL
          OR h.last_seen_at + h.lease_ms <= excluded.last_seen_at
        RETURNING name`,
      host: `SELECT * FROM ${s}.hosts WHERE name = $1`,
      hosts: `SELECT * FROM ${s}.hosts ORDER BY name COLLATE "C"`,
      // One statement: the host's row, the renewal of its held claims (none once its name went to
      // another instance: it must stop), and the claims it lost since its last heartbeat.
      heartbeat: `WITH h AS (
          UPDATE ${s}.hosts SET last_seen_at = $3 WHERE name = $1 AND instance = $2 RETURNING lease_ms),
        renewed AS (
          UPDATE ${s}.claims SET lease_until = $3::bigint + (SELECT lease_ms FROM h)
          WHERE instance = $2 AND state = 'held' AND EXISTS (SELECT 1 FROM h)),
        told AS (DELETE FROM ${s}.claim_losses WHERE instance = $2 RETURNING task, slot)
        SELECT EXISTS (SELECT 1 FROM h) AS registered,
          coalesce((SELECT json_agg(c ORDER BY c.slot, c.task COLLATE "C")
            FROM ${s}.claims c JOIN told ON told.task = c.task AND told.slot = c.slot), '[]'::json) AS lost`,
      stop: `UPDATE ${s}.hosts SET stopped_at = $3, last_seen_at = greatest(last_seen_at, $3)
        WHERE name = $1 AND instance = $2`,
      claim: `INSERT INTO ${s}.claims (task, slot, host, instance, run_id, claimed_at, lease_until, state, takeovers, reason)
        VALUES ($1, $2, $3, $4, NULL, $5, $5::bigint + $6::bigint, 'held', 0, NULL)
        ON CONFLICT (task, slot) DO NOTHING RETURNING *`,
      // The slots arrive sorted by (task, slot) and are inserted in that order (ORDER BY ord):
      // two hosts inserting overlapping sets wait on the first shared key, never on each other.
      // The losers' latest slot per task becomes this host's latest fire, in the same statement.
      claimMany: `WITH input AS (
          SELECT task, slot, ord FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS i(task, slot, ord)),
        won AS (
          INSERT INTO ${s}.claims (task, slot, host, instance, run_id, claimed_at, lease_until, state, takeovers, reason)
          SELECT task, slot, $3, $4, NULL, $5, $5::bigint + $6::bigint, 'held', 0, NULL FROM input ORDER BY ord
          ON CONFLICT (task, slot) DO NOTHING RETURNING task, slot),
        passed AS (
          INSERT INTO ${s}.task_state (task, host, last_fire)
          SELECT i.task, $3, max(i.slot) FROM input i
          WHERE NOT EXISTS (SELECT 1 FROM won w WHERE w.task = i.task AND w.slot = i.slot)
          GROUP BY i.task ORDER BY i.task
          ON CONFLICT (task, host) DO UPDATE SET last_fire = greatest(coalesce(task_state.last_fire, 0), excluded.last_fire))
        SELECT task, slot FROM won`,
      // The expired claims and, marked 'unclaimed', the asked slots with no claim at all.
      scan: `SELECT task, slot, host, instance, run_id, claimed_at, lease_until, state, takeovers, reason
          FROM ${s}.claims WHERE state = 'held' AND lease_until < $1
        UNION ALL
        SELECT i.task, i.slot, NULL, NULL, NULL, NULL, NULL, 'unclaimed', NULL, NULL
          FROM unnest($2::text[], $3::bigint[]) AS i(task, slot)
          WHERE NOT EXISTS (SELECT 1 FROM ${s}.claims c WHERE c.task = i.task AND c.slot = i.slot)`,
      attach: `UPDATE ${s}.claims SET run_id = $4 WHERE task = $1 AND slot = $2 AND instance = $3 AND state = 'held'`,
      release: `UPDATE ${s}.claims SET state = $4, reason = $5
        WHERE task = $1 AND slot = $2 AND instance = $3 AND state = 'held'`,
      expired: `SELECT * FROM ${s}.claims WHERE state = 'held' AND lease_until < $1
        ORDER BY lease_until, task COLLATE "C", slot`,
      // $3 the instance it is taken from, $5 the one taking it; $8 'held' or 'skipped'.
      takeOver: `WITH t AS (
          UPDATE ${s}.claims SET host = $4, instance = $5, claimed_at = $6, lease_until = $6::bigint + $7::bigint,
            state = $8, takeovers = takeovers + 1, reason = $9, run_id = NULL
          WHERE task = $1 AND slot = $2 AND state = 'held' AND instance = $3 AND lease_until < $6
          RETURNING *),
        lost AS (
          INSERT INTO ${s}.claim_losses (instance, task, slot) SELECT $3::text, task, slot FROM t
          ON CONFLICT DO NOTHING),
        regained AS (
          DELETE FROM ${s}.claim_losses WHERE instance = $5 AND task = $1 AND slot = $2 AND EXISTS (SELECT 1 FROM t))
        SELECT * FROM t`,
      // One statement: each claim with the instance it is taken from (re-checked on the row if a
      // takeover changed it meanwhile), which may be alive but cut off past its lease and so
      // hears of it as lost at its next heartbeat.
      adopt: `WITH a AS (
          UPDATE ${s}.claims c SET instance = $2, lease_until = $3::bigint + $4::bigint
          FROM (SELECT task, slot, instance FROM ${s}.claims WHERE host = $1 AND state = 'held' AND instance <> $2) old
          WHERE c.task = old.task AND c.slot = old.slot AND c.instance = old.instance AND c.host = $1 AND c.state = 'held'
          RETURNING c.*, old.instance AS old_instance),
        lost AS (
          INSERT INTO ${s}.claim_losses (instance, task, slot) SELECT old_instance, task, slot FROM a
          ON CONFLICT DO NOTHING)
        SELECT task, slot, host, instance, run_id, claimed_at, lease_until, state, takeovers, reason FROM a`,
      get: `SELECT * FROM ${s}.claims WHERE task = $1 AND slot = $2`,
      pruneHosts: `DELETE FROM ${s}.hosts WHERE last_seen_at < $1`,
      now: `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now`,
      prune: `DELETE FROM ${s}.claims WHERE (task, slot) IN (
        SELECT task, slot FROM ${s}.claims WHERE slot < $1 AND state <> 'held' LIMIT ${PRUNE_BATCH})`,
      pruneLosses: `DELETE FROM ${s}.claim_losses l WHERE slot < $1
        AND NOT EXISTS (SELECT 1 FROM ${s}.claims c WHERE c.task = l.task AND c.slot = l.slot)`,
    };
  }

  async register(
    reg: HostRegistration,
  ): Promise<{ readonly ok: true } | { readonly ok: false; readonly holder: HostRecord }> {
    const taken = await this.#db.query(
      this.#sql.register,
      [reg.name, reg.instance, reg.version, reg.pid, reg.now, reg.leaseMs, JSON.stringify(reg.tasks)],
      'ct_fleet_register',
    );
    if (taken.rowCount > 0) return { ok: true };
    // Refused: the holder as it is now (host rows are never deleted).
    const holder = await this.#db.query<HostRow>(this.#sql.host, [reg.name], 'ct_fleet_host');
    if (!holder.rows[0]) throw new Error(`host ${reg.name} was refused but has no holder`);
    return { ok: false, holder: toHost(holder.rows[0]) };
  }

  async heartbeat(
    name: string,
    instance: string,
    now: number,
  ): Promise<{ readonly registered: boolean; readonly lost: readonly ClaimRecord[] }> {
    const r = await this.#db.query<{ registered: boolean; lost: ClaimRow[] }>(
      this.#sql.heartbeat,
      [name, instance, now],
      'ct_fleet_heartbeat',
    );
    const row = r.rows[0]!;
    return { registered: row.registered, lost: row.lost.map(toClaim) };
  }

  async unregister(name: string, instance: string, now: number): Promise<void> {
    await this.#db.query(this.#sql.stop, [name, instance, now], 'ct_fleet_stop');
  }

  async hosts(): Promise<HostRecord[]> {
    return (await this.#db.query<HostRow>(this.#sql.hosts, [], 'ct_fleet_hosts')).rows.map(toHost);
  }

  async claimMany(c: {
    readonly slots: readonly SlotKey[];
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
  }): Promise<SlotKey[]> {
    if (c.slots.length === 0) return [];
    const sorted = sortSlots(c.slots);
    const r = await this.#db.query<{ task: string; slot: string }>(
      this.#sql.claimMany,
      [sorted.map((k) => k.task), sorted.map((k) => k.slot), c.host, c.instance, c.now, c.leaseMs],
      'ct_fleet_claim_many',
    );
    return sortSlots(r.rows.map((row) => ({ task: row.task, slot: Number(row.slot) })));
  }

  async claim(c: {
    readonly task: string;
    readonly slot: number;
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
  }): Promise<ClaimRecord | undefined> {
    const r = await this.#db.query<ClaimRow>(
      this.#sql.claim,
      [c.task, c.slot, c.host, c.instance, c.now, c.leaseMs],
      'ct_fleet_claim',
    );
    return r.rows[0] && toClaim(r.rows[0]);
  }

  async attach(task: string, slot: number, instance: string, runId: number): Promise<void> {
    await this.#db.query(this.#sql.attach, [task, slot, instance, runId], 'ct_fleet_attach');
  }

  async release(
    task: string,
    slot: number,
    instance: string,
    outcome: { readonly state: 'done' | 'skipped'; readonly reason?: string | null },
  ): Promise<void> {
    await this.#db.query(
      this.#sql.release,
      [task, slot, instance, outcome.state, outcome.reason ?? null],
      'ct_fleet_release',
    );
  }

  async expired(now: number): Promise<ClaimRecord[]> {
    return (await this.#db.query<ClaimRow>(this.#sql.expired, [now], 'ct_fleet_expired')).rows.map(toClaim);
  }

  async scan(
    now: number,
    asked: readonly SlotKey[],
  ): Promise<{ readonly expired: ClaimRecord[]; readonly unclaimed: SlotKey[] }> {
    if (asked.length === 0) return { expired: await this.expired(now), unclaimed: [] };
    const r = await this.#db.query<ClaimRow>(
      this.#sql.scan,
      [now, asked.map((k) => k.task), asked.map((k) => k.slot)],
      'ct_fleet_scan',
    );
    const expired = r.rows.filter((row) => row.state !== 'unclaimed').map(toClaim);
    expired.sort(
      (a, b) => a.leaseUntil - b.leaseUntil || (a.task < b.task ? -1 : a.task > b.task ? 1 : a.slot - b.slot),
    );
    const unclaimed = r.rows
      .filter((row) => row.state === 'unclaimed')
      .map((row) => ({ task: row.task, slot: Number(row.slot) }));
    return { expired, unclaimed: sortSlots(unclaimed) };
  }

  async takeOver(t: {
    readonly task: string;
    readonly slot: number;
    readonly fromInstance: string;
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
    readonly reason: string;
    readonly skip?: boolean;
  }): Promise<ClaimRecord | undefined> {
    const r = await this.#db.query<ClaimRow>(
      this.#sql.takeOver,
      [
        t.task,
        t.slot,
        t.fromInstance,
        t.host,
        t.instance,
        t.now,
        t.leaseMs,
        t.skip === true ? 'skipped' : 'held',
        t.reason,
      ],
      'ct_fleet_take_over',
    );
    return r.rows[0] && toClaim(r.rows[0]);
  }

  async adopt(host: string, instance: string, now: number, leaseMs: number): Promise<ClaimRecord[]> {
    const r = await this.#db.query<ClaimRow>(
      this.#sql.adopt,
      [host, instance, now, leaseMs],
      'ct_fleet_adopt',
    );
    return r.rows.map(toClaim).sort((a, b) => a.slot - b.slot);
  }

  async get(task: string, slot: number): Promise<ClaimRecord | undefined> {
    const r = await this.#db.query<ClaimRow>(this.#sql.get, [task, slot], 'ct_fleet_get');
    return r.rows[0] && toClaim(r.rows[0]);
  }

  async prune(before: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = (await this.#db.query(this.#sql.prune, [before])).rowCount;
      deleted += n;
      if (n < PRUNE_BATCH) break;
    }
    await this.#db.query(this.#sql.pruneLosses, [before]);
    await this.#db.query(this.#sql.pruneHosts, [before]);
    return deleted;
  }

  async now(): Promise<number> {
    const r = await this.#db.query<{ now: string }>(this.#sql.now, [], 'ct_fleet_now');
    return Number(r.rows[0]!.now);
  }
}
