/**
 * What the store backlog (store-backlog.ts) knows that the store does not yet: the latest record
 * of runs and incidents with writes waiting, the real ids that provisional ones became, and the
 * runs recently written straight through (one that started before an outage may finish in it).
 * It answers a waiting write as if it was made, and lays what it knows over a read's answer.
 * Pure bookkeeping: no I/O.
 */
import type { IncidentRecord, NewRun, RunFinish, RunQuery, RunRecord, Store } from '../store/types.js';

/** Real ids of provisional ones kept at most (the engine may still hold a provisional id). */
const MAX_ID_MAP = 10_000;
/** Runs written straight through kept at most. */
const MAX_SEEN = 1_000;

const active = (r: RunRecord) => r.status === 'queued' || r.status === 'running';

export class BacklogView {
  readonly #realId = new Map<number, number>();
  readonly #runs = new Map<number, RunRecord>();
  readonly #incidents = new Map<string, IncidentRecord>();
  /** Keys of incidents closed by a waiting write (the stored answer still says open). */
  readonly #closed = new Set<string>();
  readonly #seen = new Map<number, RunRecord>();

  /** The real id of a provisional one, if known. */
  realOf(id: number): number | undefined {
    return this.#realId.get(id);
  }

  /** The id to ask the store with. */
  real(id: number): number {
    return this.#realId.get(id) ?? id;
  }

  mapId(provisional: number, real: number): void {
    this.#realId.set(provisional, real);
    if (this.#realId.size > MAX_ID_MAP) this.#realId.delete(this.#realId.keys().next().value!);
  }

  /** The run's latest record as known here (waiting, or recently written), if any. */
  run(id: number): RunRecord | undefined {
    return this.#runs.get(id) ?? this.#seen.get(id);
  }

  waitingRun(id: number): RunRecord | undefined {
    return this.#runs.get(id);
  }

  /** Remembers what a write that went straight through made of a run. */
  saw(method: string, args: readonly unknown[], out: unknown): void {
    if (method === 'insertRun' || method === 'finishRun') {
      const run = out as RunRecord;
      // Under the id the engine knows it by (provisional, if it was made in an outage).
      const id = method === 'finishRun' ? (args[0] as number) : run.id;
      this.#seen.delete(id);
      if (active(run)) this.#seen.set(id, { ...run, id });
      if (this.#seen.size > MAX_SEEN) this.#seen.delete(this.#seen.keys().next().value!);
    } else if (method === 'startRun') {
      const [id, startedAt, pid] = args as [number, number, number];
      const run = this.#seen.get(id);
      if (run) this.#seen.set(id, { ...run, status: 'running', startedAt, pid });
    }
  }

  /**
   * The answer to a write that waits, as if it was made; `known` is the run a startRun or
   * finishRun is about (from here or the store).
   */
  answer(
    method: string,
    args: readonly unknown[],
    provisional: number | undefined,
    known?: RunRecord,
  ): unknown {
    switch (method) {
      case 'insertRun': {
        const run = args[0] as NewRun;
        const record: RunRecord = {
          id: provisional!,
          task: run.task,
          host: run.host,
          trigger: run.trigger,
          scheduledFor: run.scheduledFor,
          notBefore: run.notBefore,
          queuedAt: run.queuedAt,
          startedAt: run.startedAt ?? null,
          finishedAt: null,
          status: run.status,
          attempt: run.attempt,
          exitCode: null,
          durationMs: null,
          outputTail: null,
          result: null,
          reason: run.reason ?? null,
          dryRun: run.dryRun,
          pid: run.pid,
          childPgid: null,
          childStarted: null,
        };
        this.#runs.set(record.id, record);
        return record;
      }
      case 'startRun': {
        const [id, startedAt, pid] = args as [number, number, number];
        if (known) this.#runs.set(id, { ...known, status: 'running', startedAt, pid });
        return undefined;
      }
      case 'finishRun': {
        const [id, f] = args as [number, RunFinish];
        if (!known) throw new Error(`run #${id} does not exist`);
        const done: RunRecord = {
          ...known,
          status: f.status,
          finishedAt: f.finishedAt,
          startedAt: f.startedAt ?? known.startedAt,
          exitCode: f.exitCode ?? known.exitCode,
          durationMs: f.durationMs ?? known.durationMs,
          outputTail: f.outputTail ?? known.outputTail,
          result: f.result ?? known.result,
          reason: f.reason ?? known.reason,
        };
        this.#runs.set(id, done);
        return done;
      }
      case 'saveIncident': {
        const incident = { ...(args[0] as IncidentRecord) };
        const saved = { ...incident, id: provisional ?? incident.id };
        if (saved.closedAt === null) {
          this.#incidents.set(saved.key, saved);
          this.#closed.delete(saved.key);
        } else {
          this.#incidents.delete(saved.key);
          this.#closed.add(saved.key);
        }
        return saved;
      }
      case 'insertDelivery':
        return provisional;
      default:
        return undefined;
    }
  }

  /** The open incident of `key` as known here; null when a waiting write closed it; undefined: ask the store. */
  openIncident(key: string): IncidentRecord | null | undefined {
    return this.#incidents.get(key) ?? (this.#closed.has(key) ? null : undefined);
  }

  activeRuns(stored: RunRecord[], host: string): RunRecord[] {
    if (this.#runs.size === 0) return stored;
    const real = new Map([...this.#realId].map(([p, r]) => [r, p]));
    const shown = stored.map((r) => this.#runs.get(real.get(r.id) ?? r.id) ?? r).filter(active);
    const fresh = [...this.#runs.values()]
      .filter((r) => r.id < 0 && !this.#realId.has(r.id) && r.host === host && active(r))
      .sort((a, b) => b.id - a.id);
    return [...shown, ...fresh];
  }

  listIncidents(stored: IncidentRecord[], q: Parameters<Store['listIncidents']>[0]): IncidentRecord[] {
    if (!q.open || (this.#incidents.size === 0 && this.#closed.size === 0)) return stored;
    const kept = stored.filter((i) => !this.#closed.has(i.key) && !this.#incidents.has(i.key));
    return [...this.#incidents.values(), ...kept].slice(0, q.limit);
  }

  listRuns(stored: RunRecord[], q: RunQuery): RunRecord[] {
    if (this.#runs.size === 0) return stored;
    const real = new Map([...this.#realId].map(([p, r]) => [r, p]));
    const shown = stored.map((r) => this.#runs.get(real.get(r.id) ?? r.id) ?? r);
    const fresh = [...this.#runs.values()].filter(
      (r) =>
        r.id < 0 &&
        !this.#realId.has(r.id) &&
        (q.task === undefined || r.task === q.task) &&
        (q.host === undefined || r.host === q.host) &&
        (q.statuses === undefined || q.statuses.includes(r.status)),
    );
    // The unrecorded runs are the newest ones.
    return [...fresh.sort((a, b) => a.id - b.id), ...shown].slice(0, q.limit);
  }

  /** Everything waiting is in the store: reads ask it again (provisional ids stay mapped). */
  written(): void {
    this.#runs.clear();
    this.#incidents.clear();
    this.#closed.clear();
  }
}
