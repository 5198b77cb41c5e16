/**
 * Fleet coordination in SQLite: hosts, their heartbeats, and the claims of cluster task slots.
 * One SQLite file has one writer at a time, so every decision (an upsert, a conditional update,
 * an IMMEDIATE transaction) sees the latest state; the SQL is the same as PostgreSQL's where
 * SQLite allows it, so both stores decide alike.
 *
 * A takeover records the claim its old holder lost in `claim_losses`; that instance's next
 * heartbeat reads and deletes those rows, so each lost claim is reported to its loser once
 * (however often the slot changes hands meanwhile), and a claim taken back by its old holder
 * is not reported as lost.
 */
import type { ClaimRecord, HostRecord, HostRegistration, SlotKey } from '../types.js';
import { sortSlots, toClaim, toHost, type ClaimRow, type HostRow } from '../fleet-rows.js';
import { lazyStatements } from './lazy-statements.js';
import type { SqliteDatabase } from './sqlite-database.js';

/** Claims deleted per statement. */
const PRUNE_BATCH = 5000;

export class FleetRepo {
  readonly #db: SqliteDatabase;
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#s = lazyStatements(db, {
      // The name is taken over only from a holder that is this instance, stopped, or lost.
      register: `INSERT INTO hosts (name, instance, version, pid, started_at, last_seen_at, lease_ms, tasks, stopped_at)
        VALUES (@name, @instance, @version, @pid, @now, @now, @leaseMs, @tasks, NULL)
        ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, version = excluded.version, pid = excluded.pid,
          started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, lease_ms = excluded.lease_ms,
          tasks = excluded.tasks, stopped_at = NULL
        WHERE hosts.instance = excluded.instance OR hosts.stopped_at IS NOT NULL
          OR hosts.last_seen_at + hosts.lease_ms <= excluded.last_seen_at
        RETURNING name`,
      host: `SELECT * FROM hosts WHERE name = ?`,
      hosts: `SELECT * FROM hosts ORDER BY name`,
      beat: `UPDATE hosts SET last_seen_at = @now WHERE name = @name AND instance = @instance RETURNING lease_ms`,
      renew: `UPDATE claims SET lease_until = @until WHERE instance = @instance AND state = 'held'`,
      losses: `DELETE FROM claim_losses WHERE instance = ? RETURNING task, slot`,
      stop: `UPDATE hosts SET stopped_at = ?, last_seen_at = max(last_seen_at, ?) WHERE name = ? AND instance = ?`,
      claim: `INSERT INTO claims (task, slot, host, instance, run_id, claimed_at, lease_until, state, takeovers, reason)
        VALUES (@task, @slot, @host, @instance, NULL, @now, @until, 'held', 0, NULL)
        ON CONFLICT (task, slot) DO NOTHING RETURNING *`,
      attach: `UPDATE claims SET run_id = ? WHERE task = ? AND slot = ? AND instance = ? AND state = 'held'`,
      release: `UPDATE claims SET state = @state, reason = @reason
        WHERE task = @task AND slot = @slot AND instance = @instance AND state = 'held'`,
      expired: `SELECT * FROM claims WHERE state = 'held' AND lease_until < ? ORDER BY lease_until, task, slot`,
      takeOver: `UPDATE claims SET host = @host, instance = @instance, claimed_at = @now, lease_until = @until,
          state = @state, takeovers = takeovers + 1, reason = @reason, run_id = NULL
        WHERE task = @task AND slot = @slot AND state = 'held' AND instance = @from AND lease_until < @now
        RETURNING *`,
      lost: `INSERT INTO claim_losses (instance, task, slot) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
      regained: `DELETE FROM claim_losses WHERE instance = ? AND task = ? AND slot = ?`,
      // The earlier instance may be alive but cut off past its lease: it hears of them as lost.
      adoptLost: `INSERT INTO claim_losses (instance, task, slot)
        SELECT instance, task, slot FROM claims WHERE host = @host AND state = 'held' AND instance != @instance
        ON CONFLICT DO NOTHING`,
      adopt: `UPDATE claims SET instance = @instance, lease_until = @until
        WHERE host = @host AND state = 'held' AND instance != @instance RETURNING *`,
      get: `SELECT * FROM claims WHERE task = ? AND slot = ?`,
      pruneHosts: `DELETE FROM hosts WHERE last_seen_at < ?`,
      prune: `DELETE FROM claims WHERE (task, slot) IN (
        SELECT task, slot FROM claims WHERE slot < ? AND state != 'held' LIMIT ${PRUNE_BATCH})`,
      pruneLosses: `DELETE FROM claim_losses WHERE slot < ?
        AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.task = claim_losses.task AND c.slot = claim_losses.slot)`,
    });
  }

  register(
    reg: HostRegistration,
  ): { readonly ok: true } | { readonly ok: false; readonly holder: HostRecord } {
    return this.#db.transaction(() => {
      const taken = this.#s.register.get({
        name: reg.name,
        instance: reg.instance,
        version: reg.version,
        pid: reg.pid,
        now: reg.now,
        leaseMs: reg.leaseMs,
        tasks: JSON.stringify(reg.tasks),
      });
      if (taken) return { ok: true } as const;
      return { ok: false, holder: toHost(this.#s.host.get(reg.name) as HostRow) } as const;
    }, 'immediate');
  }

  heartbeat(
    name: string,
    instance: string,
    now: number,
  ): { readonly registered: boolean; readonly lost: readonly ClaimRecord[] } {
    return this.#db.transaction(() => {
      const host = this.#s.beat.get({ name, instance, now }) as { lease_ms: number } | undefined;
      // A daemon whose name went to another instance renews nothing: it must stop.
      if (host) this.#s.renew.run({ instance, until: now + host.lease_ms });
      const losses = this.#s.losses.all(instance) as { task: string; slot: number }[];
      const lost = losses
        .map((l) => this.#s.get.get(l.task, l.slot) as ClaimRow | undefined)
        .filter((r): r is ClaimRow => r !== undefined)
        .map(toClaim)
        .sort((a, b) => a.slot - b.slot || (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
      return { registered: host !== undefined, lost };
    }, 'immediate');
  }

  unregister(name: string, instance: string, now: number): void {
    this.#s.stop.run(now, now, name, instance);
  }

  hosts(): HostRecord[] {
    return (this.#s.hosts.all() as HostRow[]).map(toHost);
  }

  claim(c: {
    readonly task: string;
    readonly slot: number;
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
  }): ClaimRecord | undefined {
    const row = this.#s.claim.get({
      task: c.task,
      slot: c.slot,
      host: c.host,
      instance: c.instance,
      now: c.now,
      until: c.now + c.leaseMs,
    }) as ClaimRow | undefined;
    return row && toClaim(row);
  }

  attach(task: string, slot: number, instance: string, runId: number): void {
    this.#s.attach.run(runId, task, slot, instance);
  }

  release(
    task: string,
    slot: number,
    instance: string,
    outcome: { readonly state: 'done' | 'skipped'; readonly reason?: string | null },
  ): void {
    this.#s.release.run({ task, slot, instance, state: outcome.state, reason: outcome.reason ?? null });
  }

  expired(now: number): ClaimRecord[] {
    return (this.#s.expired.all(now) as ClaimRow[]).map(toClaim);
  }

  scan(now: number, asked: readonly SlotKey[]): { expired: ClaimRecord[]; unclaimed: SlotKey[] } {
    return this.#db.transaction(() => ({
      expired: this.expired(now),
      unclaimed: sortSlots(asked.filter((k) => this.#s.get.get(k.task, k.slot) === undefined)),
    }));
  }

  takeOver(t: {
    readonly task: string;
    readonly slot: number;
    readonly fromInstance: string;
    readonly host: string;
    readonly instance: string;
    readonly now: number;
    readonly leaseMs: number;
    readonly reason: string;
    readonly skip?: boolean;
  }): ClaimRecord | undefined {
    return this.#db.transaction(() => {
      const row = this.#s.takeOver.get({
        task: t.task,
        slot: t.slot,
        from: t.fromInstance,
        host: t.host,
        instance: t.instance,
        now: t.now,
        until: t.now + t.leaseMs,
        state: t.skip === true ? 'skipped' : 'held',
        reason: t.reason,
      }) as ClaimRow | undefined;
      if (!row) return undefined;
      this.#s.lost.run(t.fromInstance, t.task, t.slot);
      this.#s.regained.run(t.instance, t.task, t.slot);
      return toClaim(row);
    }, 'immediate');
  }

  adopt(host: string, instance: string, now: number, leaseMs: number): ClaimRecord[] {
    const rows = this.#db.transaction(() => {
      this.#s.adoptLost.run({ host, instance });
      return this.#s.adopt.all({ host, instance, until: now + leaseMs }) as ClaimRow[];
    }, 'immediate');
    return rows.map(toClaim).sort((a, b) => a.slot - b.slot);
  }

  get(task: string, slot: number): ClaimRecord | undefined {
    const row = this.#s.get.get(task, slot) as ClaimRow | undefined;
    return row && toClaim(row);
  }

  /** In batches, so each write transaction stays short and a running daemon never stalls. */
  prune(before: number): number {
    let deleted = 0;
    for (;;) {
      const n = this.#s.prune.run(before).changes;
      deleted += n;
      if (n < PRUNE_BATCH) break;
    }
    this.#s.pruneLosses.run(before);
    this.#s.pruneHosts.run(before);
    return deleted;
  }
}
