/** Incidents, their deliveries and dead-man pings in SQLite. */
import type { DeliveryRecord, DeliveryStatus, IncidentRecord, PingRecord } from '../types.js';
import { lazyStatements } from './lazy-statements.js';
import type { SqliteDatabase } from './sqlite-database.js';
import { IncidentOpenError } from '../incident-open-error.js';

interface IncidentRow {
  id: number;
  key: string;
  subject_kind: string;
  subject_id: string;
  event: string;
  level: string;
  opened_at: number;
  last_seen_at: number;
  last_notified_at: number | null;
  occurrences: number;
  notifications: number;
  message: string;
  one_shot: number;
  closed_at: number | null;
}

const toIncident = (r: IncidentRow): IncidentRecord => ({
  id: r.id,
  key: r.key,
  subjectKind: r.subject_kind as IncidentRecord['subjectKind'],
  subjectId: r.subject_id,
  event: r.event,
  level: r.level as IncidentRecord['level'],
  openedAt: r.opened_at,
  lastSeenAt: r.last_seen_at,
  lastNotifiedAt: r.last_notified_at,
  occurrences: r.occurrences,
  notifications: r.notifications,
  message: r.message,
  oneShot: r.one_shot === 1,
  closedAt: r.closed_at,
});

interface DeliveryRow {
  id: number;
  incident_id: number | null;
  channel: string;
  event: string;
  status: string;
  attempts: number;
  created_at: number;
  finished_at: number | null;
  error: string | null;
  payload: string | null;
}

const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id,
  incidentId: r.incident_id,
  channel: r.channel,
  event: r.event,
  status: r.status as DeliveryStatus,
  attempts: r.attempts,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
  error: r.error,
  payload: r.payload,
});

export class AlertsRepo {
  readonly #db: SqliteDatabase;
  readonly #s;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#s = lazyStatements(db, {
      open: `SELECT * FROM incidents WHERE key = ? AND closed_at IS NULL`,
      insert: `INSERT INTO incidents (key, subject_kind, subject_id, event, level, opened_at, last_seen_at,
          last_notified_at, occurrences, notifications, message, one_shot, closed_at)
        VALUES (@key, @subjectKind, @subjectId, @event, @level, @openedAt, @lastSeenAt, @lastNotifiedAt, @occurrences,
          @notifications, @message, @oneShot, @closedAt)
        ON CONFLICT (key) WHERE closed_at IS NULL DO NOTHING RETURNING *`,
      update: `UPDATE incidents SET event = @event, level = @level, last_seen_at = @lastSeenAt,
          last_notified_at = @lastNotifiedAt, occurrences = @occurrences, notifications = @notifications,
          message = @message, closed_at = @closedAt WHERE id = @id RETURNING *`,
      insertDelivery: `INSERT INTO deliveries (incident_id, channel, event, status, attempts, created_at,
          finished_at, error, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      updateDelivery: `UPDATE deliveries SET status = @status, attempts = @attempts,
          finished_at = @finishedAt, error = @error, payload = CASE WHEN @keepPayload THEN payload ELSE @payload END
        WHERE id = @id`,
      delivered: `SELECT 1 FROM deliveries WHERE incident_id = ? AND channel = ? AND status = 'sent' LIMIT 1`,
      ping: `INSERT INTO pings (name, at, ok, source, message) VALUES (?, ?, ?, ?, ?)`,
      lastPings: `SELECT p.* FROM pings p
        JOIN (SELECT name, max(id) AS id FROM pings GROUP BY name) last ON last.id = p.id`,
    });
  }

  openIncident(key: string): IncidentRecord | undefined {
    const row = this.#s.open.get(key) as IncidentRow | undefined;
    return row && toIncident(row);
  }

  saveIncident(i: IncidentRecord): IncidentRecord {
    const params = { ...i, oneShot: i.oneShot ? 1 : 0 };
    const row = (i.id === 0 ? this.#s.insert.get(params) : this.#s.update.get(params)) as
      IncidentRow | undefined;
    if (!row && i.id === 0) throw new IncidentOpenError(i.key);
    if (!row) throw new Error(`incident #${i.id} does not exist`);
    return toIncident(row);
  }

  listIncidents(q: { open?: boolean; since?: number; limit: number }): IncidentRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.open === true) where.push('closed_at IS NULL');
    if (q.open === false) where.push('closed_at IS NOT NULL');
    if (q.since !== undefined) {
      // Open ones always count; closed ones when they were still open at `since`.
      where.push('(closed_at IS NULL OR closed_at >= ?)');
      params.push(q.since);
    }
    const sql = `SELECT * FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...params, q.limit) as IncidentRow[]).map(toIncident);
  }

  insertDelivery(d: Omit<DeliveryRecord, 'id'>): number {
    return Number(
      this.#s.insertDelivery.run(
        d.incidentId,
        d.channel,
        d.event,
        d.status,
        d.attempts,
        d.createdAt,
        d.finishedAt,
        d.error,
        d.payload,
      ).lastInsertRowid,
    );
  }

  updateDelivery(
    id: number,
    p: Pick<DeliveryRecord, 'status' | 'attempts' | 'finishedAt' | 'error'> & { payload?: string | null },
  ): void {
    this.#s.updateDelivery.run({
      id,
      status: p.status,
      attempts: p.attempts,
      finishedAt: p.finishedAt,
      error: p.error,
      keepPayload: p.payload === undefined ? 1 : 0,
      payload: p.payload ?? null,
    });
  }

  listDeliveries(q: {
    status?: DeliveryStatus;
    incidentId?: number;
    since?: number;
    limit: number;
  }): DeliveryRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.status !== undefined) {
      where.push('status = ?');
      params.push(q.status);
    }
    if (q.incidentId !== undefined) {
      where.push('incident_id = ?');
      params.push(q.incidentId);
    }
    if (q.since !== undefined) {
      where.push('created_at >= ?');
      params.push(q.since);
    }
    const sql = `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...params, q.limit) as DeliveryRow[]).map(toDelivery);
  }

  wasDelivered(incidentId: number, channel: string): boolean {
    return this.#s.delivered.get(incidentId, channel) !== undefined;
  }

  recordPing(p: PingRecord): void {
    this.#s.ping.run(p.name, p.at, p.ok ? 1 : 0, p.source, p.message);
  }

  lastPings(): Map<string, PingRecord> {
    const rows = this.#s.lastPings.all() as {
      name: string;
      at: number;
      ok: number;
      source: string | null;
      message: string | null;
    }[];
    return new Map(
      rows.map((r) => [
        r.name,
        { name: r.name, at: r.at, ok: r.ok === 1, source: r.source, message: r.message },
      ]),
    );
  }

  /** Closed incidents, finished deliveries and pings older than `before` (the newest ping per name stays). */
  prune(before: number): number {
    let n = 0;
    n += this.#db
      .prepare(`DELETE FROM deliveries WHERE created_at < ? AND status != 'held'`)
      .run(before).changes;
    n += this.#db
      .prepare(`DELETE FROM incidents WHERE closed_at IS NOT NULL AND closed_at < ?`)
      .run(before).changes;
    n += this.#db
      .prepare(`DELETE FROM pings WHERE at < ? AND id NOT IN (SELECT max(id) FROM pings GROUP BY name)`)
      .run(before).changes;
    return n;
  }
}
