/**
 * The notifier: turns signals (a run failed, a watch missed its ping, a run recovered) into at
 * most one alert per incident, and alerts into deliveries on every channel that wants them.
 * Signals are processed one at a time (incident state is read-modify-write); deliveries run in
 * the background, each with its own retries, and are recorded in the store. Nothing here throws
 * into the caller: a failure is logged and recorded, and the daemon carries on.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.js';
import { isInside } from '../core/window.js';
import type { IncidentRecord, RunRecord, Store } from '../store/types.js';
import { buildEvent } from './alert-event.js';
import type { Channel } from './channels/channel.js';
import { deliver } from './delivery.js';
import { decide, nextReminder, remind, type Signal } from './incidents.js';
import { planFlush, quietEnd } from './quiet-hours.js';
import { secretValues } from './redact.js';
import type { AlertEvent, AlertEventKind, AlertPolicy, AlertSubject } from './types.js';
import { IncidentOpenError } from '../store/incident-open-error.js';

/** Re-check timers at least this often (a suspended machine, a wall-clock jump). */
const MAX_WAIT_MS = 5 * 60_000;

export interface NotifierOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly host: string;
  readonly channels: readonly Channel[];
  readonly policy: AlertPolicy;
  /** Environment variables whose values must never appear in an alert or a record. */
  readonly secretEnvNames: readonly string[];
}

export interface SignalContext {
  readonly run?: RunRecord;
  readonly details?: Record<string, unknown>;
}

export interface TestOutcome {
  readonly channel: string;
  readonly ok: boolean;
  readonly attempts: number;
  readonly error: string | null;
}

export class Notifier {
  #opts: NotifierOptions;
  #chain: Promise<void> = Promise.resolve();
  readonly #inflight = new Set<Promise<void>>();
  #abort = new AbortController();
  #reminder: TimerHandle | null = null;
  #flush: TimerHandle | null = null;
  #running = false;

  constructor(opts: NotifierOptions) {
    this.#opts = opts;
  }

  get channels(): readonly Channel[] {
    return this.#opts.channels;
  }

  async start(): Promise<void> {
    this.#running = true;
    this.#abort = new AbortController();
    const { store, clock } = this.#opts;
    // Deliveries cut off by a crash stay "sending" forever otherwise.
    for (const d of await store.listDeliveries({ status: 'sending', limit: 1000 })) {
      await store.updateDelivery(d.id, {
        status: 'failed',
        attempts: d.attempts,
        finishedAt: clock.now(),
        error: 'interrupted: caretaker stopped during the delivery',
      });
    }
    this.#enqueue(async () => {
      await this.#armReminder();
      await this.#armFlush();
    });
  }

  /** Stops timers, lets deliveries in flight finish for up to `graceMs`, then cuts them short. */
  async stop(graceMs = 5_000): Promise<void> {
    this.#running = false;
    this.#clearTimers();
    for (;;) {
      const chain = this.#chain;
      await chain;
      if (chain === this.#chain) break;
    }
    // An alert about the last run before shutdown deserves a few seconds to get out; then
    // retries are cut short. Real time: shutdown is about the process, not the schedule.
    if (this.#inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
      await Promise.race([Promise.allSettled([...this.#inflight]), grace]);
      clearTimeout(timer);
    }
    this.#abort.abort();
    await this.idle();
  }

  /** New channels and policy after a configuration reload. */
  update(opts: Pick<NotifierOptions, 'channels' | 'policy' | 'secretEnvNames'>): void {
    this.#opts = { ...this.#opts, ...opts };
    if (this.#running)
      this.#enqueue(async () => {
        await this.#armReminder();
        await this.#armFlush();
      });
  }

  /** Resolves when every signal is processed and every delivery has finished. */
  async idle(): Promise<void> {
    for (;;) {
      const chain = this.#chain;
      await chain;
      if (chain !== this.#chain) continue; // work queued more work meanwhile
      if (this.#inflight.size === 0) return;
      await Promise.allSettled([...this.#inflight]);
    }
  }

  /** Queues a signal; processing is serial so an incident is never updated by two at once. */
  signal(sig: Signal, ctx: SignalContext = {}): void {
    this.#enqueue(() => this.#process(sig, ctx));
  }

  /** Queues work that must run in order with the signals (e.g. deciding which signals to send). */
  enqueue(work: () => Promise<void>): void {
    this.#enqueue(work);
  }

  /** Sends a `test` alert to each channel (or one) now, ignoring filters and quiet hours. */
  async test(only?: string): Promise<TestOutcome[]> {
    const { clock, host, store } = this.#opts;
    const channels = this.#opts.channels.filter((c) => only === undefined || c.config.name === only);
    const ev = buildEvent({
      event: 'test',
      subject: { kind: 'daemon', id: 'caretaker' },
      host,
      now: clock.now(),
      message: 'This is a test alert from caretaker: this channel works.',
      secrets: this.#secrets(),
    });
    return Promise.all(
      channels.map(async (c) => {
        const id = await store.insertDelivery({
          incidentId: null,
          channel: c.config.name,
          event: 'test',
          status: 'sending',
          attempts: 0,
          createdAt: clock.now(),
          finishedAt: null,
          error: null,
          payload: null,
        });
        const r = await deliver(c, ev, { clock, signal: this.#abort.signal, secrets: this.#secrets() });
        await store.updateDelivery(id, {
          status: r.ok ? 'sent' : 'failed',
          attempts: r.attempts,
          finishedAt: clock.now(),
          error: r.error,
        });
        return { channel: c.config.name, ...r };
      }),
    );
  }

  /** Sends an alert that belongs to no incident (a daemon that could not start). */
  async direct(event: AlertEventKind, subject: AlertSubject, message: string): Promise<void> {
    const ev = buildEvent({
      event,
      subject,
      host: this.#opts.host,
      now: this.#opts.clock.now(),
      message,
      secrets: this.#secrets(),
    });
    await this.#dispatch(ev, null, true);
    await this.idle();
  }

  // ---- internals ------------------------------------------------------------------------------

  #enqueue(work: () => Promise<void>): void {
    this.#chain = this.#chain.then(work).catch((err: unknown) => {
      this.#opts.logger.error({ err }, 'alerting failed; caretaker carries on');
    });
  }

  #secrets(): string[] {
    return secretValues(this.#opts.secretEnvNames);
  }

  async #process(sig: Signal, ctx: SignalContext, again = false): Promise<void> {
    const { store, clock, policy, logger } = this.#opts;
    const now = clock.now();
    const current = await store.openIncident(sig.key);
    const d = decide(current, sig, now, policy.renotifyMs);
    let saved: IncidentRecord | undefined;
    try {
      saved = d.next ? await store.saveIncident(d.next) : current;
    } catch (err) {
      // Another process opened this incident a moment ago: it is that one's (one per fleet).
      if (err instanceof IncidentOpenError && !again) return this.#process(sig, ctx, true);
      throw err;
    }
    if (d.notify && saved) {
      const subject: AlertSubject =
        sig.kind === 'problem' ? sig.subject : { kind: saved.subjectKind, id: saved.subjectId };
      await this.#dispatch(this.#eventFor(d.notify, subject, saved, d.repeat, ctx), saved);
    } else if (d.suppressed) {
      logger.debug({ incident: saved?.id, key: sig.key }, `no alert: ${d.suppressed}`);
    }
    if (d.next) await this.#armReminder();
  }

  #eventFor(
    event: AlertEventKind,
    subject: AlertSubject,
    incident: IncidentRecord,
    repeat: boolean,
    ctx: SignalContext,
  ): AlertEvent {
    return buildEvent({
      event,
      subject,
      host: this.#opts.host,
      now: this.#opts.clock.now(),
      message: repeat
        ? `${incident.message}\n(still open since ${new Date(incident.openedAt).toISOString()}, seen ${incident.occurrences} time${incident.occurrences === 1 ? '' : 's'})`
        : incident.message,
      incident,
      repeat,
      run: ctx.run,
      details: ctx.details,
      secrets: this.#secrets(),
    });
  }

  async #dispatch(ev: AlertEvent, incident: IncidentRecord | null, ignoreQuiet = false): Promise<void> {
    const { store, clock, policy } = this.#opts;
    const now = clock.now();
    const quiet = !ignoreQuiet && policy.quietHours !== null && isInside(now, policy.quietHours);
    for (const channel of this.#opts.channels) {
      const c = channel.config;
      if (!c.on.includes(ev.event as never) && ev.event !== 'test') continue;
      if (c.subjects && !c.subjects.includes(ev.subject.id)) continue;
      // A recovery goes only where the problem went: telling a channel "fixed" about something
      // it never heard of is noise.
      if (ev.event === 'recovery' && incident) {
        const earlier = await store.listDeliveries({ incidentId: incident.id, limit: 1000 });
        if (!earlier.some((d) => d.channel === c.name && (d.status === 'sent' || d.status === 'held')))
          continue;
      }
      const base = { incidentId: incident?.id ?? null, channel: c.name, event: ev.event, createdAt: now };
      if (quiet && c.quietHours) {
        await store.insertDelivery({
          ...base,
          status: 'held',
          attempts: 0,
          finishedAt: null,
          error: null,
          payload: JSON.stringify(ev),
        });
        continue;
      }
      const id = await store.insertDelivery({
        ...base,
        status: 'sending',
        attempts: 0,
        finishedAt: null,
        error: null,
        payload: null,
      });
      this.#send(channel, ev, id);
    }
    if (quiet) await this.#armFlush();
  }

  #send(channel: Channel, ev: AlertEvent, deliveryId: number): void {
    const { store, clock, logger } = this.#opts;
    const work = (async () => {
      const r = await deliver(channel, ev, { clock, signal: this.#abort.signal, secrets: this.#secrets() });
      try {
        await store.updateDelivery(deliveryId, {
          status: r.ok ? 'sent' : 'failed',
          attempts: r.attempts,
          finishedAt: clock.now(),
          error: r.error,
          payload: null,
        });
      } catch (err) {
        logger.error({ err }, 'could not record a delivery');
      }
      if (r.ok) logger.info({ channel: channel.config.name, event: ev.event }, `alert sent: ${ev.title}`);
      else
        logger.error(
          { channel: channel.config.name, event: ev.event, attempts: r.attempts },
          `alert not delivered through ${channel.config.name}: ${r.error}`,
        );
    })();
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
  }

  #clearTimers(): void {
    const { clock } = this.#opts;
    if (this.#reminder) clock.clearTimer(this.#reminder);
    if (this.#flush) clock.clearTimer(this.#flush);
    this.#reminder = null;
    this.#flush = null;
  }

  async #armReminder(): Promise<void> {
    const { clock, store, policy } = this.#opts;
    if (this.#reminder) clock.clearTimer(this.#reminder);
    this.#reminder = null;
    if (!this.#running) return;
    const open = await store.listIncidents({ open: true, limit: 10_000 });
    const due = nextReminder(open, policy.renotifyMs);
    if (due === null) return;
    const wait = Math.min(Math.max(0, due - clock.now()), MAX_WAIT_MS);
    this.#reminder = clock.setTimer(() => {
      this.#reminder = null;
      this.#enqueue(() => this.#remindAll());
    }, wait);
  }

  async #remindAll(): Promise<void> {
    const { store, clock, policy } = this.#opts;
    for (const incident of await store.listIncidents({ open: true, limit: 10_000 })) {
      const d = remind(incident, clock.now(), policy.renotifyMs);
      if (!d.next || !d.notify) continue;
      const saved = await store.saveIncident(d.next);
      const subject: AlertSubject = { kind: saved.subjectKind, id: saved.subjectId };
      await this.#dispatch(this.#eventFor(d.notify, subject, saved, true, {}), saved);
    }
    await this.#armReminder();
  }

  async #armFlush(): Promise<void> {
    const { clock, store, policy } = this.#opts;
    if (this.#flush) clock.clearTimer(this.#flush);
    this.#flush = null;
    if (!this.#running) return;
    const held = await store.listDeliveries({ status: 'held', limit: 1 });
    if (held.length === 0) return;
    const now = clock.now();
    const end = policy.quietHours ? quietEnd(now, policy.quietHours) : now;
    this.#flush = clock.setTimer(
      () => {
        this.#flush = null;
        this.#enqueue(() => this.#flushHeld());
      },
      Math.min(Math.max(0, end - now), MAX_WAIT_MS),
    );
  }

  async #flushHeld(): Promise<void> {
    const { store, clock, policy } = this.#opts;
    const now = clock.now();
    if (policy.quietHours && isInside(now, policy.quietHours)) return this.#armFlush();
    const held = await store.listDeliveries({ status: 'held', limit: 10_000 });
    const open = new Set((await store.listIncidents({ open: true, limit: 10_000 })).map((i) => i.id));
    const told = new Map<string, boolean>();
    for (const d of held) {
      if (d.incidentId === null) continue;
      const k = `${d.incidentId}:${d.channel}`;
      if (!told.has(k)) told.set(k, await store.wasDelivered(d.incidentId, d.channel));
    }
    const plan = planFlush(
      held.map((d) => ({ ...d, event: d.event as AlertEventKind })),
      (id) => !open.has(id),
      (id, ch) => told.get(`${id}:${ch}`) ?? false,
    );
    for (const { delivery, why } of plan.drop) {
      await store.updateDelivery(delivery.id, {
        status: 'dropped',
        attempts: 0,
        finishedAt: now,
        error: why,
        payload: null,
      });
    }
    for (const h of plan.send) {
      const record = held.find((d) => d.id === h.id)!;
      const channel = this.#opts.channels.find((c) => c.config.name === h.channel);
      if (!channel || !record.payload) {
        await store.updateDelivery(h.id, {
          status: 'dropped',
          attempts: 0,
          finishedAt: now,
          error: 'the channel is no longer configured',
          payload: null,
        });
        continue;
      }
      await store.updateDelivery(h.id, { status: 'sending', attempts: 0, finishedAt: null, error: null });
      this.#send(channel, JSON.parse(record.payload) as AlertEvent, h.id);
    }
  }
}
