/** start [--daemon], stop, reload, status. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  HostSummary,
  IncidentRecord,
  PauseRecord,
  RunRecord,
  TaskSummary,
  TokenView,
  WatchStatus,
} from '../../caretaker.js';
import {
  defaultShutdownGraceMs,
  heartbeatAge,
  isStale,
  isStateLocked,
  openHistory,
  prepareLogDir,
  readHeartbeat,
  readHolder,
  systemMonotonic,
  type StateLocation,
} from '../../caretaker-tools.js';
import { ConfigError } from '../../errors/config-error.js';
import { UsageError } from '../../errors/usage-error.js';
import { expiringLine } from './access.js';
import { findDaemon } from '../../server/client.js';
import {
  configPath,
  locateDaemon,
  openCaretaker,
  printJson,
  warnIfConfigChanged,
  type GlobalOptions,
  type Io,
} from '../context.js';
import { oneLine, relative, table, when } from '../format.js';
import { plural } from '../../core/plural.js';
import { pauseLine } from './pause.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startCommand(opts: GlobalOptions & { daemon?: boolean }, io: Io): Promise<number> {
  const file = configPath(opts);
  if (!opts.daemon) {
    const { runDaemon } = await import('../../server/daemon.js');
    return runDaemon({ configPath: file, console: process.env.CARETAKER_DAEMON_CHILD !== '1' });
  }
  // Validate and find the state dir in this process, so config errors print here with exit 2.
  let probe: Awaited<ReturnType<typeof openCaretaker>>;
  try {
    probe = await openCaretaker(opts);
  } catch (err) {
    // A configured command/webhook alert still fires when the config can be read at all.
    await (await import('../../server/daemon.js')).reportStartFailure(file, err);
    throw err;
  }
  const { stateDir } = probe.config;
  await probe.close();
  const running = await findDaemon(stateDir);
  if (running)
    throw new UsageError(`a caretaker daemon is already running on ${stateDir} (pid ${running.info.pid})`);
  const outFile = resolve(await prepareLogDir(stateDir), 'daemon.out');
  const out = openSync(outFile, 'a');
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, main, 'start', '-c', file], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, CARETAKER_DAEMON_CHILD: '1' },
  });
  closeSync(out);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const d = await findDaemon(stateDir);
    if (d) {
      if (opts.json)
        printJson(io, {
          started: true,
          pid: d.info.pid,
          socket: d.info.socket,
          log: resolve(stateDir, 'logs', 'caretaker.log'),
        });
      else
        io.out(
          `caretaker is running in the background (pid ${d.info.pid}); logs: ${resolve(stateDir, 'logs', 'caretaker.log')}`,
        );
      return 0;
    }
    if (exited !== null) {
      const tail = readFileSync(outFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      io.err(tail || `the daemon exited with code ${exited}`);
      return exited === 0 ? 1 : exited;
    }
    await sleep(50);
  }
  io.err(`the daemon did not answer within 20s; see ${outFile}`);
  return 1;
}

/**
 * The state dir of the configuration — even when the file has errors, so that a daemon can always
 * be stopped: then `state_dir:` is read from the raw YAML (or the default is used).
 */
async function stateDirOf(
  opts: GlobalOptions,
  io: Io,
): Promise<{ stateDir: string; shutdownGraceMs: number }> {
  try {
    const probe = await openCaretaker(opts);
    const { stateDir, shutdownGraceMs } = probe.config;
    await probe.close();
    return { stateDir, shutdownGraceMs };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const { location } = await locateDaemon(opts);
    io.err(
      `warning: ${location.file} has errors (see caretaker validate); using the state dir ${location.stateDir}`,
    );
    return { stateDir: location.stateDir, shutdownGraceMs: await defaultShutdownGraceMs() };
  }
}

export async function stopCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const { stateDir, shutdownGraceMs } = await stateDirOf(opts, io);
  const d = await findDaemon(stateDir);
  if (!d) {
    if (opts.json) printJson(io, { stopped: false, running: false });
    else io.out(`no caretaker daemon is running on ${stateDir}`);
    return 0;
  }
  await d.call('POST', '/v1/stop');
  const deadline = Date.now() + shutdownGraceMs + 15_000;
  while (Date.now() < deadline) {
    if (!(await isStateLocked(stateDir))) {
      if (opts.json) printJson(io, { stopped: true, pid: d.info.pid });
      else io.out(`caretaker (pid ${d.info.pid}) stopped`);
      return 0;
    }
    await sleep(50);
  }
  io.err(
    `caretaker (pid ${d.info.pid}) is still stopping; it waits for running tasks up to its shutdown grace`,
  );
  return 1;
}

export async function reloadCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const probe = await openCaretaker(opts); // a broken config fails here, with positions, before the daemon sees it
  const { stateDir } = probe.config;
  await probe.close();
  const d = await findDaemon(stateDir);
  if (!d) throw new UsageError(`no caretaker daemon is running on ${stateDir}; nothing to reload`);
  const r = await d.call<{ tasks: number }>('POST', '/v1/reload');
  if (opts.json) printJson(io, { reloaded: true, ...r });
  else io.out(`configuration reloaded (${plural(r.tasks, 'task')})`);
  return 0;
}

interface DaemonStatus {
  pid: number;
  startedAt: number | null;
  config: string;
  version: string;
  timezone: string;
  running: RunRecord[];
  queued: RunRecord[];
  upcoming: Upcoming[];
  lastFailures: RunRecord[];
  watches: WatchStatus[];
  openIncidents: IncidentRecord[];
  /** The hosts of the fleet on a shared store; null on a host's own store. */
  fleet: HostSummary[] | null;
  /** Absent from a daemon older than this field. */
  paused?: PauseRecord[];
  /** Absent from a daemon older than this field. */
  store?: { reachable: boolean; unreachableSince: number | null; waiting: number };
  /** Tokens expiring within 7 days (absent from an older daemon). */
  expiringTokens?: TokenView[];
}

interface Upcoming {
  task: string;
  dueAt: number;
  timezone: string;
  seconds: boolean;
}

/** What `status` shows, from the daemon, else from the configuration and the store. */
interface StatusView {
  readonly live: DaemonStatus | undefined;
  readonly timezone: string;
  readonly configFile: string;
  readonly upcoming: Upcoming[];
  readonly lastFailures: RunRecord[];
  readonly watches: WatchStatus[];
  readonly openIncidents: IncidentRecord[];
  readonly fleet: HostSummary[] | null;
  readonly paused: PauseRecord[];
  /** The configuration has errors: what is shown comes from the store alone. */
  readonly configWarning: string | null;
  readonly expiringTokens: readonly TokenView[];
}

function upcomingOf(tasks: TaskSummary[]): Upcoming[] {
  return tasks
    .filter((t) => t.nextRunAt !== null)
    .map((t) => ({ task: t.id, dueAt: t.nextRunAt!, timezone: t.timezone, seconds: t.seconds }))
    .sort((a, b) => a.dueAt - b.dueAt)
    .slice(0, 10);
}

async function statusView(
  opts: GlobalOptions,
  io: Io,
  location: StateLocation,
  live: DaemonStatus | undefined,
): Promise<StatusView> {
  if (live) {
    const configWarning = await warnIfConfigChanged(location, io, opts.json);
    return {
      live,
      timezone: live.timezone,
      configFile: live.config,
      upcoming: live.upcoming,
      lastFailures: live.lastFailures,
      watches: live.watches,
      openIncidents: live.openIncidents,
      fleet: live.fleet ?? null,
      paused: live.paused ?? [],
      configWarning,
      expiringTokens: live.expiringTokens ?? [],
    };
  }
  let caretaker;
  try {
    caretaker = await openCaretaker(opts, { readonly: true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // No daemon and a broken file: what happened is still in the store.
    const warning = `${location.file} has errors (caretaker validate lists them); showing what the history in ${location.storeLabel} holds`;
    if (!opts.json) io.err(`warning: ${warning}`);
    const history = await openHistory(location.store);
    try {
      return {
        live,
        timezone: 'UTC',
        configFile: location.file,
        upcoming: [],
        lastFailures: await history.history({ statuses: ['failed', 'timeout', 'interrupted'], limit: 5 }),
        watches: [],
        openIncidents: await history.incidents({ open: true, limit: 20 }),
        fleet: null,
        paused: [],
        configWarning: warning,
        expiringTokens: [],
      };
    } finally {
      await history.close();
    }
  }
  try {
    return {
      live,
      timezone: caretaker.config.timezone,
      configFile: caretaker.config.file,
      upcoming: upcomingOf(await caretaker.tasks()),
      lastFailures: await caretaker.history({ statuses: ['failed', 'timeout', 'interrupted'], limit: 5 }),
      watches: await caretaker.watches(),
      openIncidents: await caretaker.incidents({ open: true, limit: 20 }),
      fleet: caretaker.config.store.kind === 'postgres' ? await caretaker.hosts() : null,
      paused: await caretaker.pauses(),
      configWarning: null,
      // A history older than the tokens table (read-only: not migrated) has none.
      expiringTokens: await (await caretaker.access()).expiringTokens().catch(() => []),
    };
  } finally {
    await caretaker.close();
  }
}

export async function statusCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const { location, daemon } = await locateDaemon(opts);
  const { stateDir } = location;
  const now = Date.now();
  const live = daemon ? await daemon.call<DaemonStatus>('GET', '/v1/status') : undefined;
  const view = await statusView(opts, io, location, live);
  const hb = readHeartbeat(stateDir);
  // The heartbeat's age by the monotonic clock: a wall-clock step is not a hung scheduler.
  const mono = systemMonotonic();
  const hbAge = hb ? heartbeatAge(hb, now, mono) : 0;
  const locked = !live && (await isStateLocked(stateDir));
  const heartbeat = hb
    ? { at: hb.at, pid: hb.pid, everyMs: hb.everyMs, ageMs: Math.round(hbAge), stale: isStale(hb, now, mono) }
    : null;
  if (opts.json) {
    printJson(io, {
      daemon: live
        ? { running: true, pid: live.pid, startedAt: live.startedAt, version: live.version }
        : locked
          ? { running: true, responding: false, pid: readHolder(stateDir)?.pid ?? null }
          : { running: false },
      configWarning: view.configWarning,
      expiringTokens: view.expiringTokens,
      heartbeat,
      store: live?.store ?? null,
      watches: view.watches,
      openIncidents: view.openIncidents,
      fleet: view.fleet,
      paused: view.paused,
      running: live?.running ?? [],
      queued: live?.queued ?? [],
      upcoming: view.upcoming,
      lastFailures: view.lastFailures,
    });
    return 0;
  }
  io.out(
    live
      ? `daemon: running (pid ${live.pid}, up ${relative(live.startedAt, now).replace(/ ago$/, '')}, caretaker ${live.version})`
      : locked
        ? `daemon: NOT RESPONDING — pid ${readHolder(stateDir)?.pid ?? '?'} holds the state dir but does not answer on its socket`
        : `daemon: not running (state dir ${stateDir}); start it with caretaker start --daemon`,
  );
  if (hb && (live || locked)) {
    io.out(
      heartbeat!.stale
        ? `heartbeat: STALE — last written ${relative(now - hbAge, now)} (expected every ${relative(now + hb.everyMs, now).replace(/^in /, '')}); the scheduler may be hung`
        : `heartbeat: ${relative(now - hbAge, now)}`,
    );
  } else if (hb) io.out(`last heartbeat: ${relative(hb.at, now)} (pid ${hb.pid})`);
  if (live?.store && !live.store.reachable) {
    const since = live.store.unreachableSince;
    const waiting = live.store.waiting;
    io.out(
      `store unreachable since ${since === null ? '?' : `${new Date(since).toISOString()} (${relative(since, now)})`}; host tasks go on, ${waiting} history write${waiting === 1 ? '' : 's'} spooled; cluster tasks are not claimed`,
    );
  }
  io.out(`config: ${view.configFile}`);
  const expiring = expiringLine(view.expiringTokens, now);
  if (expiring) io.out(`tokens: ${expiring}`);
  if (view.fleet) io.out(fleetLine(view.fleet, now));
  if (live && live.running.length + live.queued.length > 0) {
    io.out('\nrunning and waiting:');
    io.out(
      table(
        ['RUN', 'TASK', 'STATE', 'SINCE'],
        [...live.running, ...live.queued].map((r) => [
          `#${r.id}`,
          r.task,
          r.status,
          relative(r.startedAt ?? r.queuedAt, now),
        ]),
      ),
    );
  }
  if (!view.configWarning || live) {
    // Without a daemon nothing starts: a time passed is a run owed (missed: decides at start).
    io.out(live ? '\nnext runs:' : '\nnext runs (none starts until the daemon does):');
    io.out(
      view.upcoming.length
        ? table(
            ['WHEN', 'TASK', 'AT'],
            view.upcoming.slice(0, 10).map((u) => [
              u.dueAt < now ? `due ${relative(u.dueAt, now)}` : relative(u.dueAt, now),
              // Its slot comes and is recorded as skipped: say so where the time is shown.
              view.paused.some((p) => p.task === u.task) ? `${u.task} (paused: skipped)` : u.task,
              when(u.dueAt, u.timezone, u.seconds),
            ]),
          )
        : '  (no scheduled tasks)',
    );
  }
  if (view.paused.length > 0) {
    io.out('\npaused (their scheduled runs are skipped; caretaker resume ID):');
    io.out(
      table(
        ['TASK', 'PAUSED'],
        view.paused.map((p) => [p.task, pauseLine(p, now)]),
      ),
    );
  }
  if (view.openIncidents.length > 0) {
    io.out('\nopen incidents:');
    io.out(
      table(
        ['#', 'SUBJECT', 'EVENT', 'SINCE', 'SEEN', 'MESSAGE'],
        view.openIncidents.map((i) => [
          `#${i.id}`,
          `${i.subjectKind} ${i.subjectId}`,
          i.event,
          relative(i.openedAt, now),
          String(i.occurrences),
          oneLine(i.message, 60),
        ]),
      ),
    );
  }
  if (view.watches.length > 0) {
    io.out('\nwatches:');
    io.out(
      table(
        ['WATCH', 'STATE', 'LAST PING', 'DEADLINE'],
        view.watches.map((w) => [
          w.name,
          w.state,
          w.lastPing ? `${w.lastPing.ok ? 'ok' : 'FAIL'} ${relative(w.lastPing.at, now)}` : 'never',
          w.deadline === null ? '-' : relative(w.deadline, now),
        ]),
      ),
    );
  }
  io.out('\nlast failures:');
  io.out(
    view.lastFailures.length
      ? table(
          ['RUN', 'TASK', 'STATUS', 'WHEN', 'WHY'],
          view.lastFailures.map((r) => [
            `#${r.id}`,
            r.task,
            r.status,
            relative(r.finishedAt, now),
            oneLine(r.reason ?? r.result?.summary, 60),
          ]),
        )
      : '  (none)',
  );
  return 0;
}

/** `fleet: 3 hosts — web-1, web-2 up; web-3 LOST (last seen 40s ago)`. */
function fleetLine(hosts: readonly HostSummary[], now: number): string {
  const of = (state: HostSummary['state']) => hosts.filter((h) => h.state === state);
  const parts: string[] = [];
  if (of('up').length)
    parts.push(
      `${of('up')
        .map((h) => h.name)
        .join(', ')} up`,
    );
  const lost = of('lost');
  if (lost.length)
    parts.push(`${lost.map((h) => `${h.name} LOST (last seen ${relative(h.lastSeenAt, now)})`).join(', ')}`);
  if (of('stopped').length)
    parts.push(
      `${of('stopped')
        .map((h) => h.name)
        .join(', ')} stopped`,
    );
  return `fleet: ${plural(hosts.length, 'host')}${parts.length ? ` — ${parts.join('; ')}` : ''} (caretaker hosts)`;
}
