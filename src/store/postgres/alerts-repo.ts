/** Incidents, their deliveries and dead-man pings in PostgreSQL. */
import type { DeliveryRecord, DeliveryStatus, IncidentRecord, PingRecord } from '../types.js';
import type { PgDatabase } from './pg-database.js';
import { pgText } from './pg-text.js';
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
  one_shot: boolean;
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
  oneShot: r.one_shot,
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

export class PgAlertsRepo {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async openIncident(key: string): Promise<IncidentRecord | undefined> {
    const r = await this.#db.query<IncidentRow>(
      `SELECT * FROM ${this.#db.s}.incidents WHERE key = $1 AND closed_at IS NULL`,
      [key],
      'ct_incident_open',
    );
    return r.rows[0] && toIncident(r.rows[0]);
  }

  async saveIncident(i: IncidentRecord): Promise<IncidentRecord> {
    const s = this.#db.s;
    const r =
      i.id === 0
        ? await this.#db.query<IncidentRow>(
            `INSERT INTO ${s}.incidents (key, subject_kind, subject_id, event, level, opened_at, last_seen_at,
              last_notified_at, occurrences, notifications, message, one_shot, closed_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            ON CONFLICT (key) WHERE closed_at IS NULL DO NOTHING RETURNING *`,
            [
              i.key,
              i.subjectKind,
              i.subjectId,
              i.event,
              i.level,
              i.openedAt,
              i.lastSeenAt,
              i.lastNotifiedAt,
              i.occurrences,
              i.notifications,
              pgText(i.message),
              i.oneShot,
              i.closedAt,
            ],
          )
        : await this.#db.query<IncidentRow>(
            `UPDATE ${s}.incidents SET event = $2, level = $3, last_seen_at = $4, last_notified_at = $5,
              occurrences = $6, notifications = $7, message = $8, closed_at = $9 WHERE id = $1 RETURNING *`,
            [
              i.id,
              i.event,
              i.level,
              i.lastSeenAt,
              i.lastNotifiedAt,
              i.occurrences,
              i.notifications,
              pgText(i.message),
              i.closedAt,
            ],
          );
    if (!r.rows[0] && i.id === 0) throw new IncidentOpenError(i.key);
    if (!r.rows[0]) throw new Error(`incident #${i.id} does not exist`);
    return toIncident(r.rows[0]);
  }

  async listIncidents(q: { open?: boolean; since?: number; limit: number }): Promise<IncidentRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.open === true) where.push('closed_at IS NULL');
    if (q.open === false) where.push('closed_at IS NOT NULL');
    if (q.since !== undefined) {
      // Open ones always count; closed ones when they were still open at `since`.
      params.push(q.since);
      where.push(`(closed_at IS NULL OR closed_at >= $${params.length})`);
    }
    params.push(q.limit);
    const sql = `SELECT * FROM ${this.#db.s}.incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT $${params.length}`;
    return (await this.#db.query<IncidentRow>(sql, params)).rows.map(toIncident);
  }

  async insertDelivery(d: Omit<DeliveryRecord, 'id'>): Promise<number> {
    const r = await this.#db.query<{ id: number }>(
      `INSERT INTO ${this.#db.s}.deliveries (incident_id, channel, event, status, attempts, created_at,
        finished_at, error, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        d.incidentId,
        d.channel,
        d.event,
        d.status,
        d.attempts,
        d.createdAt,
        d.finishedAt,
        pgText(d.error),
        pgText(d.payload),
      ],
      'ct_delivery_insert',
    );
    return r.rows[0]!.id;
  }

  async updateDelivery(
    id: number,
    p: Pick<DeliveryRecord, 'status' | 'attempts' | 'finishedAt' | 'error'> & { payload?: string | null },
  ): Promise<void> {
    await this.#db.query(
      `UPDATE ${this.#db.s}.deliveries SET status = $2, attempts = $3, finished_at = $4, error = $5,
        payload = CASE WHEN $6::boolean THEN payload ELSE $7 END WHERE id = $1`,
      [
        id,
        p.status,
        p.attempts,
        p.finishedAt,
        pgText(p.error),
        p.payload === undefined,
        pgText(p.payload ?? null),
      ],
      'ct_delivery_update',
    );
  }

  async listDeliveries(q: {
    status?: DeliveryStatus;
    incidentId?: number;
    since?: number;
    limit: number;
  }): Promise<DeliveryRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (col: string, op: string, v: unknown) => {
      params.push(v);
      where.push(`${col} ${op} $${params.length}`);
    };
    if (q.status !== undefined) add('status', '=', q.status);
    if (q.incidentId !== undefined) add('incident_id', '=', q.incidentId);
    if (q.since !== undefined) add('created_at', '>=', q.since);
    params.push(q.limit);
    const sql = `SELECT * FROM ${this.#db.s}.deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT $${params.length}`;
    return (await this.#db.query<DeliveryRow>(sql, params)).rows.map(toDelivery);
  }

  async wasDelivered(incidentId: number, channel: string): Promise<boolean> {
    const r = await this.#db.query(
      `SELECT 1 FROM ${this.#db.s}.deliveries WHERE incident_id = $1 AND channel = $2 AND status = 'sent' LIMIT 1`,
      [incidentId, channel],
    );
    return r.rows.length > 0;
  }

  async recordPing(p: PingRecord): Promise<void> {
    await this.#db.query(
      `INSERT INTO ${this.#db.s}.pings (name, at, ok, source, message) VALUES ($1, $2, $3, $4, $5)`,
      [p.name, p.at, p.ok, p.source, pgText(p.message)],
      'ct_ping_insert',
    );
  }

  async lastPings(): Promise<Map<string, PingRecord>> {
    const r = await this.#db.query<{
      name: string;
      at: number;
      ok: boolean;
      source: string | null;
      message: string | null;
    }>(`SELECT DISTINCT ON (name) * FROM ${this.#db.s}.pings ORDER BY name, id DESC`);
    return new Map(
      r.rows.map((x) => [x.name, { name: x.name, at: x.at, ok: x.ok, source: x.source, message: x.message }]),
    );
  }

  /** Closed incidents, finished deliveries and pings older than `before` (the newest ping per name stays). */
  async prune(before: number): Promise<number> {
    const s = this.#db.s;
    let n = 0;
    n += (
      await this.#db.query(`DELETE FROM ${s}.deliveries WHERE created_at < $1 AND status != 'held'`, [before])
    ).rowCount;
    n += (
      await this.#db.query(`DELETE FROM ${s}.incidents WHERE closed_at IS NOT NULL AND closed_at < $1`, [
        before,
      ])
    ).rowCount;
    n += (
      await this.#db.query(
        `DELETE FROM ${s}.pings WHERE at < $1 AND id NOT IN (SELECT max(id) FROM ${s}.pings GROUP BY name)`,
        [before],
      )
    ).rowCount;
    return n;
  }
}
