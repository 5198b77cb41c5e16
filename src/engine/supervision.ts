/**
 * Everything that watches and tells: the notifier (alerts through the channels), what runs mean
 * for alerts (failures, recoveries, anomalies), the dead-man watches and the daemon's own
 * heartbeat. Wired to the engine's events by the facade when scheduling starts; actions know
 * nothing of it.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Clock } from '../core/clock.js';
import { DeadManWatch, type WatchMiss } from './dead-man-watch.js';
import type { Engine, RunFinishedInfo } from './engine.js';
import { Heartbeat } from './heartbeat.js';
import { configSecretEnvNames } from './secret-names.js';
import { makeChannel } from '../notify/channels/make-channel.js';
import { pingHeartbeatUrl } from '../notify/heartbeat-ping.js';
import { Notifier, type TestOutcome } from '../notify/notifier.js';
import { didYouMean } from '../core/did-you-mean.js';
import { UsageError } from '../errors/usage-error.js';
import { RunAlerts } from '../notify/run-alerts.js';
import type { AlertTaskInfo } from '../notify/types.js';
import type { HostRecord, PingRecord, RunRecord, Store } from '../store/types.js';
import { formatDuration } from '../core/duration.js';

export interface SupervisionOptions {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly engine: Engine;
}

export class Supervision {
  readonly notifier: Notifier;
  readonly watch: DeadManWatch;
  readonly #runAlerts: RunAlerts;
  readonly #o: SupervisionOptions;
  #config: Config;
  #heartbeat: Heartbeat | null = null;
  #running = false;
  #tasks: Map<string, AlertTaskInfo>;

  readonly #onStarted = (run: RunRecord) => this.#runAlerts.started(run);
  readonly #onFinished = (run: RunRecord, info: RunFinishedInfo) =>
    this.#runAlerts.finished(run, info.retrying);
  readonly #onMissed = (run: RunRecord) => this.#runAlerts.missed(run);
  readonly #onWatchMissed = (m: WatchMiss) => {
    const last = m.lastPing
      ? `the last ping was at ${new Date(m.lastPing.at).toISOString()}`
      : 'it never pinged';
    this.notifier.signal({
      kind: 'problem',
      key: `watch:${m.name}`,
      subject: this.#watchSubject(m.name),
      event: 'missed',
      level: 'fail',
      message: `no ping from ${m.name} by ${new Date(m.deadline).toISOString()} (expect: ${m.expect}); ${last}`,
    });
  };
  readonly #onHostLost = (h: HostRecord) =>
    this.notifier.signal({
      kind: 'problem',
      key: `host:${h.name}`,
      subject: { kind: 'daemon', id: h.name, description: `the caretaker daemon of host ${h.name}` },
      event: 'host_lost',
      level: 'fail',
      message: `host "${h.name}" stopped heartbeating: last seen ${new Date(h.lastSeenAt).toISOString()} (lease ${formatDuration(h.leaseMs)}); its cluster slots go to other hosts`,
    });
  readonly #onHostBack = (h: HostRecord) =>
    this.notifier.signal({
      kind: 'clear',
      key: `host:${h.name}`,
      message:
        h.stoppedAt === null
          ? `host "${h.name}" is heartbeating again`
          : `host "${h.name}" stopped cleanly at ${new Date(h.stoppedAt).toISOString()}`,
    });
  readonly #onPing = (p: PingRecord) => {
    const key = `watch:${p.name}`;
    if (p.ok)
      this.notifier.signal({
        kind: 'clear',
        key,
        message: `${p.name} reported in${p.message ? `: ${p.message}` : ''}`,
      });
    else
      this.notifier.signal({
        kind: 'problem',
        key,
        subject: this.#watchSubject(p.name),
        event: 'failure',
        level: 'fail',
        message: `${p.name} reported a failure${p.message ? `: ${p.message}` : ''}`,
      });
  };

  constructor(o: SupervisionOptions) {
    this.#o = o;
    this.#config = o.config;
    this.#tasks = tasksOf(o.config);
    this.notifier = new Notifier({
      store: o.store,
      clock: o.clock,
      logger: o.logger,
      host: o.config.host,
      channels: o.config.alerting.channels.map(makeChannel),
      policy: o.config.alerting.policy,
      secretEnvNames: configSecretEnvNames(o.config),
    });
    this.#runAlerts = new RunAlerts({
      notifier: this.notifier,
      store: o.store,
      clock: o.clock,
      tasks: () => this.#tasks,
    });
    this.watch = new DeadManWatch({
      store: o.store,
      clock: o.clock,
      logger: o.logger,
      timezone: o.config.timezone,
    });
  }

  get running(): boolean {
    return this.#running;
  }

  #watchSubject(name: string) {
    const w = this.#config.alerting.watches.find((x) => x.name === name);
    return { kind: 'watch' as const, id: name, owner: w?.owner, description: w?.description };
  }

  /** Subscribes to the engine; call before the engine starts so recovered runs are seen too. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { engine } = this.#o;
    engine.on('run:started', this.#onStarted);
    engine.on('run:finished', this.#onFinished);
    engine.on('run:missed', this.#onMissed);
    engine.on('host:lost', this.#onHostLost);
    engine.on('host:back', this.#onHostBack);
    this.watch.on('watch:missed', this.#onWatchMissed);
    this.watch.on('watch:ping', this.#onPing);
    await this.notifier.start();
    await this.watch.start(this.#config.alerting.watches);
  }

  /** Starts the heartbeat (once the engine is scheduling, so it reports the engine's passes). */
  startHeartbeat(stateDir: string): void {
    const hb = this.#config.alerting.heartbeat;
    const { clock, logger, engine } = this.#o;
    this.#heartbeat = new Heartbeat({
      stateDir,
      clock,
      logger,
      host: this.#config.host,
      everyMs: hb.everyMs,
      staleAfterMs: hb.staleAfterMs,
      lastPassAt: () => engine.lastPassAt,
      onBeat:
        hb.url || hb.urlEnv
          ? async () => {
              await pingHeartbeatUrl(hb, logger);
            }
          : undefined,
    });
    this.#heartbeat.start();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    const { engine } = this.#o;
    engine.off('run:started', this.#onStarted);
    engine.off('run:finished', this.#onFinished);
    engine.off('run:missed', this.#onMissed);
    engine.off('host:lost', this.#onHostLost);
    engine.off('host:back', this.#onHostBack);
    this.watch.off('watch:missed', this.#onWatchMissed);
    this.watch.off('watch:ping', this.#onPing);
    this.watch.stop();
    this.#runAlerts.stop();
    await this.#heartbeat?.stop();
    this.#heartbeat = null;
    await this.notifier.stop();
  }

  /** Sends a test alert through every channel (or the one named), ignoring filters and quiet hours. */
  async testChannels(only?: string): Promise<TestOutcome[]> {
    const names = this.#config.alerting.channels.map((c) => c.name);
    if (names.length === 0) throw new UsageError('no channels are configured under notify:');
    if (only !== undefined && !names.includes(only))
      throw new UsageError(
        `unknown channel "${only}"${didYouMean(only, names)}; channels: ${names.join(', ')}`,
      );
    return this.notifier.test(only);
  }

  async reload(config: Config): Promise<void> {
    this.#config = config;
    this.#tasks = tasksOf(config);
    this.notifier.update({
      channels: config.alerting.channels.map(makeChannel),
      policy: config.alerting.policy,
      secretEnvNames: configSecretEnvNames(config),
    });
    if (this.#running) await this.watch.reload(config.alerting.watches);
  }
}

function tasksOf(config: Config): Map<string, AlertTaskInfo> {
  return new Map(config.tasks.map((t) => [t.id, t]));
}
