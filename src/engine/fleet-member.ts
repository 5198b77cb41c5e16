/**
 * This daemon as a member of the fleet: it registers its host name in the store, heartbeats
 * every third of the lease (renewing the leases of the cluster slots it holds), and at each beat
 * looks for slots whose holder went silent past its lease and offers them to the engine to take
 * over. PostgreSQL decides every race (see FleetStore): no protocol of our own.
 *
 * Fencing: a holder that missed its beats (a network cut) learns at its next beat which of its
 * slots another host took over, and the engine stops those runs.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config, TaskConfig } from '../config/types.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { HostNameTakenError } from '../errors/host-name-taken-error.js';
import type { ClaimRecord, FleetStore, HostRecord, SlotKey } from '../store/types.js';
import { VERSION } from '../version.js';

export interface FleetMemberHooks {
  /** A slot this instance held was taken over by another host: stop its run here. */
  fence(claim: ClaimRecord): Promise<void>;
  /** A silent host's slot of one of our cluster tasks: the engine decides and takes it over. */
  orphaned(claim: ClaimRecord, task: TaskConfig): Promise<void>;
  /** A host went silent past its lease; told by one host of the fleet (the first up by name). */
  hostLost(host: HostRecord): void;
  /** A host told lost is heard from again, or stopped cleanly. */
  hostBack(host: HostRecord): void;
  /** Every scan (about a second): what other hosts may have changed in the store (pauses). */
  poll?(): Promise<void>;
  /** Slots to ask the store about at this scan (which no host claimed?). */
  asked?(now: number): readonly SlotKey[];
  /** The answer: of the slots asked about, those no host claimed. */
  unclaimed?(asked: readonly SlotKey[], unclaimed: readonly SlotKey[]): Promise<void>;
}

/** The fleet's hosts are looked at every this many heartbeats (once per lease). */
const HOSTS_EVERY_BEATS = 3;
/** Expired leases are looked for this often (or every heartbeat, if more often). */
const SCAN_EVERY_MS = 1_000;

export interface FleetMemberOptions {
  readonly store: FleetStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pid: number;
  readonly config: () => Config;
  readonly hooks: FleetMemberHooks;
  /** Identifies this daemon process in the fleet. @default a random UUID */
  readonly instance?: string;
  /**
   * Is the store shared by a fleet (PostgreSQL)? A host's own store (SQLite) has no fleet to
   * join: no registration, no heartbeat writes, nothing to take over.
   */
  readonly shared: boolean;
}

export class FleetMember {
  readonly instance: string;
  readonly #o: FleetMemberOptions;
  #timer: TimerHandle | null = null;
  #beating: Promise<void> | null = null;
  #joined = false;
  #failingSince: number | null = null;
  #beats = 0;
  #lastBeatAt: number | null = null;
  #live: readonly string[] = [];
  /** Hosts this member told lost (and will tell back). */
  readonly #told = new Map<string, HostRecord>();

  constructor(opts: FleetMemberOptions) {
    this.#o = opts;
    this.instance = opts.instance ?? randomUUID();
  }

  get joined(): boolean {
    return this.#joined;
  }

  /** The fleet's hosts up (heartbeating, not stopped) at the last look: empty before the first. */
  get liveHosts(): readonly string[] {
    return this.#live;
  }

  /**
   * Registers the host name. A name held by a daemon still inside its lease may be this host's
   * own previous daemon, killed a moment ago: wait once for its lease to end, then refuse with
   * HostNameTakenError if it is still heartbeating (a second daemon under the same name).
   * Returns the slots this host's crashed previous daemon still held, now this instance's.
   */
  async join(): Promise<ClaimRecord[]> {
    if (!this.#o.shared) return [];
    const { store, clock, logger } = this.#o;
    const config = this.#o.config();
    const reg = () =>
      store.registerHost({
        name: config.host,
        instance: this.instance,
        version: VERSION,
        pid: this.#o.pid,
        tasks: config.tasks.map((t) => t.id),
        leaseMs: config.fleet.leaseMs,
        now: clock.now(),
      });
    let answer = await reg();
    if (!answer.ok) {
      const holder = answer.holder;
      const waitMs = Math.max(0, holder.lastSeenAt + holder.leaseMs - clock.now()) + config.fleet.heartbeatMs;
      logger.warn(
        { host: config.host, holderPid: holder.pid, holderInstance: holder.instance },
        `host name "${config.host}" is held by a daemon last seen ${formatDuration(Math.max(0, clock.now() - holder.lastSeenAt))} ago (pid ${holder.pid}); waiting ${formatDuration(waitMs)} for its lease to end`,
      );
      await new Promise<void>((res) => clock.setTimer(res, waitMs));
      answer = await reg();
      if (!answer.ok) throw new HostNameTakenError(takenMessage(config.host, answer.holder, clock.now()));
    }
    this.#joined = true;
    await this.#checkClock();
    return store.adoptClaims(config.host, this.instance, clock.now(), config.fleet.leaseMs);
  }

  /**
   * Leases are judged by each host's clock: one that is off by a good part of a lease takes
   * over slots whose holders are alive, or loses its own. Say so once, at start.
   */
  async #checkClock(): Promise<void> {
    const { store, clock, logger } = this.#o;
    const before = clock.now();
    const theirs = await store.storeTime();
    const mine = (before + clock.now()) / 2;
    const skew = mine - theirs;
    const { leaseMs } = this.#o.config().fleet;
    if (Math.abs(skew) > Math.max(1_000, leaseMs / 6))
      logger.warn(
        { skewMs: Math.round(skew) },
        `this host's clock is ${formatDuration(Math.abs(skew))} ${skew > 0 ? 'ahead of' : 'behind'} the store's: leases (${formatDuration(leaseMs)}) are judged by host clocks; keep the fleet on NTP`,
      );
  }

  /** Starts the heartbeat (the first beat at once: orphaned slots are looked at on start). */
  startBeating(): void {
    if (this.#timer || !this.#joined) return;
    const tick = () => {
      const { heartbeatMs } = this.#o.config().fleet;
      // Expired leases are looked for every second (a read), so a slot is taken over within
      // about a second of its lease's end; the heartbeat (a write) goes every third of a lease.
      this.#timer = this.#o.clock.setTimer(tick, Math.min(SCAN_EVERY_MS, heartbeatMs));
      if (this.#beating) return;
      const now = this.#o.clock.now();
      const full = this.#lastBeatAt === null || now - this.#lastBeatAt >= heartbeatMs - 50;
      if (full) this.#lastBeatAt = now;
      this.#beating = this.beat(full).finally(() => (this.#beating = null));
    };
    tick();
  }

  /**
   * One heartbeat: renew, stop what was lost, take over what was orphaned (with `full` false,
   * only the last: a look for expired leases between two heartbeats). Never throws.
   */
  async beat(full = true): Promise<void> {
    const { store, clock, logger } = this.#o;
    const config = this.#o.config();
    const now = clock.now();
    try {
      if (full) await this.#renew(now);
      if (!this.#joined) return;
      await this.#o.hooks.poll?.();
      if (full && this.#beats++ % HOSTS_EVERY_BEATS === 0) await this.#watchHosts(now);
      const asked = this.#joined ? (this.#o.hooks.asked?.(now) ?? []) : [];
      const scan = await store.scanClaims(now, asked);
      if (asked.length > 0) await this.#o.hooks.unclaimed?.(asked, scan.unclaimed);
      for (const claim of scan.expired) {
        const task = config.tasks.find((t) => t.id === claim.task);
        if (!task || task.scope !== 'cluster' || !task.enabled) continue;
        await this.#o.hooks.orphaned(claim, task);
      }
    } catch (err) {
      if (this.#failingSince === null) {
        this.#failingSince = now;
        logger.error(
          { err: (err as Error).message },
          `fleet heartbeat failed: ${(err as Error).message.split('\n')[0]}`,
        );
      }
    }
  }

  /** The heartbeat's write: this host's row and its leases; what it lost meanwhile is stopped. */
  async #renew(now: number): Promise<void> {
    const { store, logger } = this.#o;
    const config = this.#o.config();
    const { registered, lost } = await store.heartbeat(config.host, this.instance, now);
    if (this.#failingSince !== null) {
      logger.info(`fleet heartbeat recorded again after ${formatDuration(now - this.#failingSince)} without`);
      this.#failingSince = null;
    }
    if (!registered) {
      logger.error(
        { host: config.host },
        `host name "${config.host}" is now held by another daemon: this one no longer takes cluster slots`,
      );
      this.#joined = false;
    }
    for (const claim of lost) {
      logger.warn(
        { task: claim.task, slot: new Date(claim.slot).toISOString(), to: claim.host },
        `${claim.task}: the slot of ${new Date(claim.slot).toISOString()} was taken over by host "${claim.host}" (this host missed its heartbeats); stopping its run here`,
      );
      await this.#o.hooks.fence(claim);
    }
  }

  /**
   * Which hosts went silent: one host tells it (the first up by name, so the fleet opens one
   * incident, not one per host), and tells when the host is back.
   */
  async #watchHosts(now: number): Promise<void> {
    const me = this.#o.config().host;
    const hosts = await this.#o.store.listHosts();
    const lost = (h: HostRecord) => h.stoppedAt === null && now > h.lastSeenAt + h.leaseMs && h.name !== me;
    const up = hosts.filter((h) => !lost(h) && h.stoppedAt === null).map((h) => h.name);
    this.#live = up;
    const teller = [...up, me].sort()[0] === me;
    if (!teller) {
      this.#told.clear();
      return;
    }
    for (const h of hosts) {
      if (lost(h) && !this.#told.has(h.name)) {
        this.#told.set(h.name, h);
        this.#o.hooks.hostLost(h);
      } else if (!lost(h) && this.#told.has(h.name)) {
        this.#told.delete(h.name);
        this.#o.hooks.hostBack(h);
      }
    }
  }

  /** Stops heartbeating and records a clean stop (the name is free for the next daemon at once). */
  async leave(): Promise<void> {
    if (this.#timer) this.#o.clock.clearTimer(this.#timer);
    this.#timer = null;
    await this.#beating;
    if (!this.#joined) return;
    this.#joined = false;
    const config = this.#o.config();
    try {
      await this.#o.store.unregisterHost(config.host, this.instance, this.#o.clock.now());
    } catch (err) {
      this.#o.logger.warn(`could not record this host's stop in the fleet: ${(err as Error).message}`);
    }
  }
}

function takenMessage(name: string, holder: HostRecord, now: number): string {
  return (
    `host name "${name}" is already held by a running daemon (pid ${holder.pid}, version ${holder.version}, ` +
    `last seen ${formatDuration(Math.max(0, now - holder.lastSeenAt))} ago): give each daemon its own \`host:\``
  );
}
