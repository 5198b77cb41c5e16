/** start [--daemon], stop, reload, status. */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { DEFAULTS } from '../../config/resolve.js';
import { fileURLToPath } from 'node:url';
import { isStale, readHeartbeat } from '../../engine/heartbeat.js';
import { isLocked, readHolder } from '../../engine/state-lock.js';
import { UsageError } from '../../errors/usage-error.js';
import { findDaemon } from '../../server/client.js';
import type { RunRecord } from '../../store/types.js';
import { configPath, openCaretaker, printJson, type GlobalOptions, type Io } from '../context.js';
import { oneLine, relative, table, when } from '../format.js';

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
  mkdirSync(resolve(stateDir, 'logs'), { recursive: true });
  const outFile = resolve(stateDir, 'logs', 'daemon.out');
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
 * The state dir of the configuration — even when the file has errors, so that a daemon can
 * always be stopped: then `state_dir:` is read from the raw YAML (or the default is used).
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
    if ((err as Error).name !== 'ConfigError') throw err;
    const file = configPath(opts);
    let raw: unknown;
    try {
      raw = parse(readFileSync(file, 'utf8'));
    } catch {
      raw = undefined;
    }
    const named = (raw as { state_dir?: unknown } | undefined)?.state_dir;
    const stateDir = resolve(dirname(file), typeof named === 'string' ? named : DEFAULTS.stateDir);
    io.err(`warning: ${file} has errors (see caretaker validate); using the state dir ${stateDir}`);
    return { stateDir, shutdownGraceMs: DEFAULTS.shutdownGraceMs };
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
    if (!isLocked(stateDir)) {
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
  else io.out(`configuration reloaded (${r.tasks} tasks)`);
  return 0;
}

interface DaemonStatus {
  pid: number;
  startedAt: number | null;
  config: string;
  version: string;
  running: RunRecord[];
  queued: RunRecord[];
  upcoming: { task: string; dueAt: number }[];
}

export async function statusCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const caretaker = await openCaretaker(opts);
  try {
    const { stateDir, timezone } = caretaker.config;
    const now = Date.now();
    const d = await findDaemon(stateDir);
    const live = d ? await d.call<DaemonStatus>('GET', '/v1/status') : undefined;
    const failures = await caretaker.history({ statuses: ['failed', 'timeout', 'interrupted'], limit: 5 });
    const upcoming =
      live?.upcoming ??
      (await caretaker.tasks())
        .filter((t) => t.nextRunAt !== null)
        .map((t) => ({ task: t.id, dueAt: t.nextRunAt! }))
        .sort((a, b) => a.dueAt - b.dueAt)
        .slice(0, 10);
    const hb = readHeartbeat(stateDir);
    const locked = !live && isLocked(stateDir);
    const heartbeat = hb ? { at: hb.at, pid: hb.pid, everyMs: hb.everyMs, stale: isStale(hb, now) } : null;
    const watches = await caretaker.watches();
    const incidents = await caretaker.incidents({ open: true, limit: 20 });
    if (opts.json) {
      printJson(io, {
        daemon: live
          ? { running: true, pid: live.pid, startedAt: live.startedAt, version: live.version }
          : locked
            ? { running: true, responding: false, pid: readHolder(stateDir)?.pid ?? null }
            : { running: false },
        heartbeat,
        watches,
        openIncidents: incidents,
        running: live?.running ?? [],
        queued: live?.queued ?? [],
        upcoming,
        lastFailures: failures,
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
        isStale(hb, now)
          ? `heartbeat: STALE — last written ${relative(hb.at, now)} (expected every ${relative(now + hb.everyMs, now).replace(/^in /, '')}); the scheduler may be hung`
          : `heartbeat: ${relative(hb.at, now)}`,
      );
    } else if (hb) io.out(`last heartbeat: ${relative(hb.at, now)} (pid ${hb.pid})`);
    io.out(`config: ${caretaker.config.file}`);
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
    io.out('\nnext runs:');
    io.out(
      upcoming.length
        ? table(
            ['WHEN', 'TASK', 'AT'],
            upcoming.slice(0, 10).map((u) => [relative(u.dueAt, now), u.task, when(u.dueAt, timezone)]),
          )
        : '  (no scheduled tasks)',
    );
    if (incidents.length > 0) {
      io.out('\nopen incidents:');
      io.out(
        table(
          ['#', 'SUBJECT', 'EVENT', 'SINCE', 'SEEN', 'MESSAGE'],
          incidents.map((i) => [
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
    if (watches.length > 0) {
      io.out('\nwatches:');
      io.out(
        table(
          ['WATCH', 'STATE', 'LAST PING', 'DEADLINE'],
          watches.map((w) => [
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
      failures.length
        ? table(
            ['RUN', 'TASK', 'STATUS', 'WHEN', 'WHY'],
            failures.map((r) => [
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
  } finally {
    await caretaker.close();
  }
}
