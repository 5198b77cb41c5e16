/**
 * The facade's tools that need no loaded configuration: where a configuration keeps its state and
 * what is running there, validating a file, importing crontabs, the backups of a host that has only
 * its archives, the daemon's own start-up. Each loads what it uses on first call, so `caretaker
 * status` against a running daemon loads no schema, no database driver and no action.
 */
import type { Caretaker, CaretakerOptions, IncidentRecord, RunRecord } from './caretaker.js';
import type { RunQuery } from './store/types.js';
import type { StoreSpec } from './store/open-store.js';
import type { CrontabFormat } from './config/import/crontab.js';
import type { BackupArchives, BackupArchivesOptions } from './engine/backup-archives.js';
import type { CreateTaskInput, EditOutcome } from './config/edit-file.js';

export { locateState, type StateLocation } from './config/locate-state.js';
export { loadedStamp, type LoadedStamp } from './config/loaded-stamp.js';
export { readHolder, type HolderInfo } from './engine/daemon-holder.js';
export { heartbeatAge, isStale, readHeartbeat, type HeartbeatRecord } from './engine/heartbeat.js';
export { systemMonotonic } from './engine/clock.js';
export type { ValidationReport } from './config/validation-report.js';
export type { BackupArchives, BackupArchivesOptions } from './engine/backup-archives.js';
export type { CreateTaskInput, EditOutcome } from './config/edit-file.js';
// For the CLI entry: a daemon that is PID 1 hands PID 1 to a reaper first (os/pid1-reaper.ts).
export { reapOrphansAsPid1 } from './os/pid1-reaper.js';
// Who pauses a task from the command line (sent to the daemon, which may run as another user).
export { currentUser } from './os/current-user.js';

/** Does a live process hold the state dir's lock (a daemon, or an embedded scheduler)? */
export async function isStateLocked(stateDir: string): Promise<boolean> {
  return (await import('./engine/state-lock.js')).isLocked(stateDir);
}

/** The facade, loaded on first use. */
export async function openCaretaker(opts: CaretakerOptions): Promise<Caretaker> {
  return (await import('./caretaker.js')).openCaretaker(opts);
}

/** Past runs and incidents, read from a history database alone. */
export interface HistoryReader {
  history(query?: Partial<RunQuery>): Promise<RunRecord[]>;
  incidents(q?: { open?: boolean; limit?: number }): Promise<IncidentRecord[]>;
  close(): Promise<void>;
}

/** Loads and checks a configuration file: ConfigError with every problem, or its report. */
export async function validateConfig(file: string) {
  return (await import('./config/validation-report.js')).validateConfigFile(file);
}

/**
 * Adds a task to a configuration file, comments and formatting kept, checked by the loader
 * before it is written (atomically); UsageError (exit 2) with the file untouched otherwise.
 */
export async function createTaskInFile(file: string, input: CreateTaskInput): Promise<EditOutcome> {
  return (await import('./config/edit-file.js')).createTaskInFile(file, input);
}

/** Sets one task's schedule in a configuration file, as createTaskInFile does its edit. */
export async function scheduleTaskInFile(file: string, id: string, expr: string): Promise<EditOutcome> {
  return (await import('./config/edit-file.js')).scheduleTaskInFile(file, id, expr);
}

/** CARETAKER_STORE_UNREACHABLE_GRACE_MS, when it is a number of milliseconds. */
function graceFromEnv(): number | undefined {
  const raw = process.env.CARETAKER_STORE_UNREACHABLE_GRACE_MS;
  const ms = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** A caretaker for the daemon process: its log goes to the state dir (and to the terminal). */
export async function createDaemonCaretaker(o: {
  configPath: string;
  host?: string;
  console: boolean;
}): Promise<Caretaker> {
  const [{ createLogger }, { openCaretaker }, { configSecretValues }] = await Promise.all([
    import('./engine/logger.js'),
    import('./caretaker.js'),
    import('./engine/secret-names.js'),
  ]);
  return openCaretaker({
    configPath: o.configPath,
    host: o.host,
    scheduler: true,
    storeUnreachableGraceMs: graceFromEnv(),
    logger: (c) =>
      createLogger({
        stateDir: c.stateDir,
        level: c.log.level,
        console: o.console,
        secrets: () => configSecretValues(c),
      }),
  });
}

/** How long a stopping daemon waits for running tasks when its configuration cannot be read. */
export async function defaultShutdownGraceMs(): Promise<number> {
  return (await import('./config/resolve.js')).DEFAULTS.shutdownGraceMs;
}

/** The state dir's log directory, created when missing. */
export async function prepareLogDir(stateDir: string): Promise<string> {
  return (await import('./engine/logger.js')).prepareLogDir(stateDir);
}

/** Tells the configured channels that caretaker could not start; returns what each said. */
export async function reportStartFailure(configPath: string, err: unknown) {
  return (await import('./engine/start-failure.js')).alertStartFailure(configPath, err);
}

/** caretaker started: closes the start-failure incident of earlier attempts, if one is open. */
export async function closeStartFailure(configPath: string, stateDir: string): Promise<boolean> {
  return (await import('./engine/start-failure-incident.js')).closeStartFailure(configPath, stateDir);
}

/** The archives of a configuration's backups (or of a directory), their checks and restores. */
export async function openBackups(o: BackupArchivesOptions): Promise<BackupArchives> {
  const { BackupArchives } = await import('./engine/backup-archives.js');
  return new BackupArchives(o).prepare();
}

/** The names of the built-in actions (for `caretaker init`). */
export async function builtinActionNames(): Promise<string[]> {
  return (await import('./actions/builtin.js')).builtinRegistry().names();
}

/** A crontab (stdin, a file or a cron.d directory) converted to tasks (`caretaker import crontab`). */
export async function importCrontab(file: string | undefined, o: { format?: CrontabFormat }) {
  return (await import('./config/import/crontab-files.js')).importCrontabPath(file, o);
}

/** logrotate configuration converted to rotate-logs tasks (`caretaker import logrotate`). */
export async function importLogrotate(sources: readonly string[]) {
  const m = await import('./config/import/logrotate.js');
  const result = m.importLogrotate(sources);
  return { result, yaml: m.renderLogrotateTasks(result, sources) };
}

/**
 * The history of a state dir without its configuration (read-only): a configuration with errors
 * must not hide what already happened. A database not created yet is an empty history.
 */
export async function openHistory(spec: StoreSpec): Promise<HistoryReader> {
  if (spec.kind === 'sqlite') {
    const { existsSync } = await import('node:fs');
    if (!existsSync(spec.path))
      return { history: async () => [], incidents: async () => [], close: async () => {} };
  }
  const { openStore } = await import('./store/open-store.js');
  const store = await openStore(spec, { readonly: true });
  return {
    history: (q = {}) => store.listRuns({ limit: 20, ...q }),
    incidents: (q = {}) => store.listIncidents({ open: q.open, limit: q.limit ?? 100 }),
    close: () => store.close(),
  };
}
