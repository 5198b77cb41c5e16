/**
 * `caretaker backup list | verify | restore`: the archives of a configuration's backup tasks (or
 * of a directory given by hand), their checks, and restores into a directory. Works without a
 * configuration (a fresh host that has only the archive); with one, the state dir is protected
 * and a restore is recorded in the history of the task that made the archive.
 */
import { checkRestoreTarget, RestoreTargetError } from '../backup/restore-target.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listArchiveFiles, type ArchiveFile } from '../backup/archive-name.js';
import { ManifestError } from '../backup/manifest.js';
import { catalog, findArchive, type BackupDest, type CatalogEntry } from '../backup/catalog.js';
import { pgRestore, PgToolError, type PgSource } from '../backup/postgres.js';
import { looksLikePostgresUrl, restoreDatabase } from '../backup/restore-database.js';
import { restoreArchive, RestoreFailedError, type RestoreResult } from '../backup/restore-archive.js';
import { RestoreRefusedError } from '../backup/restore-plan.js';
import { toolRunner } from '../backup/tool-runner.js';
import { checkArchive, describeProblems, type ArchiveCheck } from '../backup/verify-archive.js';
import { writeVerifyState } from '../backup/verify-state.js';
import { backupDests } from '../config/backup-dests.js';
import { loadConfigFile, loadDeclarationsOf } from '../config/load.js';
import { locateState } from '../config/locate-state.js';
import type { Config } from '../config/types.js';
import { builtinRegistry } from '../actions/builtin.js';
import { TaskFailedError } from '../errors/task-failed-error.js';
import { UsageError } from '../errors/usage-error.js';
import { ConfigError } from '../errors/config-error.js';
import { formatSize } from '../core/size.js';
import type { RunRecord } from '../store/types.js';
import { PathGuard, UnsafePathError } from '../safety/path-guard.js';
import { SystemClock } from './clock.js';
import { looksLikeCopyUrl } from '../backup/copy-url.js';
import { verifyRemote, withRemoteArchive, type RemoteCheck } from '../backup/offsite-verify.js';
import {
  configuredCopies,
  copyFailure,
  identitiesFor,
  listCopies,
  openCopy,
  type ConfiguredCopy,
  type RemoteListing,
} from './backup-copies.js';

/** Without a config there is no state dir to protect; a NUL byte matches no real path. */
const NO_STATE_DIR = '/\0no-state-dir';

export interface BackupArchivesOptions {
  /** The configuration, when there is one (undefined: a host with only the archives). */
  readonly configPath?: string;
  /** A directory given by hand instead of the configured destinations. */
  readonly dest?: string;
  /** Only the archives of this backup task. */
  readonly task?: string;
}

export type Progress = (done: number, total: number, label: string) => void;

export interface VerifyOutcome {
  readonly archive: ArchiveFile;
  readonly check: ArchiveCheck;
  readonly ms: number;
  /** One line per problem, at most 20. */
  readonly problems: string[];
}

export interface RestoreRequest {
  readonly archive: string;
  readonly to: string;
  readonly only?: string;
  readonly force?: boolean;
  /** Load the archive's PostgreSQL dump into this database with pg_restore. */
  readonly postgres?: string;
  readonly skipExternalLinks?: boolean;
  /** The age key for an encrypted copy (`s3://…` archives). */
  readonly identity?: string;
  readonly onProgress?: Progress;
}

export interface RemoteVerifyOutcome extends RemoteCheck {
  readonly ms: number;
}

export interface RestoreOutcome extends RestoreResult {
  readonly archive: ArchiveFile;
  /** The database the dump went into (password hidden) and which dump, when --postgres. */
  readonly postgres: { readonly url: string; readonly dump: string } | null;
  /** PostgreSQL dumps restored as files only. */
  readonly dumps: readonly string[];
  /** The history row of this restore (null without a usable configuration). */
  readonly run: RunRecord | null;
  /** `to` was a PostgreSQL URL: the files went to a temp dir, removed afterwards. */
  readonly scratch: boolean;
}

export class BackupArchives {
  readonly #o: BackupArchivesOptions;
  #config: Config | undefined | null = null;
  readonly #registry = builtinRegistry();

  constructor(o: BackupArchivesOptions) {
    this.#o = o;
  }

  /** Imports the declarations of the actions the configuration names (its load stays lazy). */
  async prepare(): Promise<this> {
    if (this.#o.configPath !== undefined) await loadDeclarationsOf(this.#o.configPath, this.#registry);
    return this;
  }

  #configuration(): Config | undefined {
    if (this.#config === null)
      this.#config =
        this.#o.configPath === undefined
          ? undefined
          : loadConfigFile(this.#o.configPath, { registry: this.#registry });
    return this.#config;
  }

  /** Where to look: the hand-given directory, else every backup task's destination. */
  dests(): BackupDest[] {
    return backupDests(this.#o, this.#o.dest ? undefined : this.#configuration());
  }

  list(): CatalogEntry[] {
    return catalog(this.dests());
  }

  /** The copies the backup tasks configure (none with --dest or without a configuration). */
  #copies(): ConfiguredCopy[] {
    if (this.#o.dest) return [];
    let config: Config | undefined;
    try {
      config = this.#configuration();
    } catch (err) {
      if (err instanceof ConfigError) return [];
      throw err;
    }
    return configuredCopies(config, this.#o.task);
  }

  /** The complete archives in every configured copy. */
  listCopies(): Promise<RemoteListing[]> {
    return listCopies(this.#copies());
  }

  /** Streams a copy (`s3://bucket/prefix/NAME`) and checks every checksum. */
  async verifyCopy(url: string, identity?: string, onProgress?: Progress): Promise<RemoteVerifyOutcome> {
    const started = performance.now();
    try {
      const { target, archive, configured } = await openCopy(url, this.#copies());
      try {
        const ids = identitiesFor(identity, configured);
        const check = await verifyRemote(target, archive, ids, {
          onProgress: (done, total) => onProgress?.(done, total, archive.name),
        });
        return { ...check, ms: performance.now() - started };
      } finally {
        target.close();
      }
    } catch (err) {
      const line = copyFailure(err, url);
      if (line !== undefined) throw new TaskFailedError(line);
      throw err;
    }
  }

  /** An archive path, or a bare archive name looked up in the destinations. */
  find(arg: string): ArchiveFile {
    const bare = /^[^/]+$/.test(arg) && !existsSync(arg);
    const dests = bare ? this.dests() : [];
    const found = findArchive(arg, dests);
    if (!found)
      throw new UsageError(
        `no archive ${arg}${dests.length ? ` in ${dests.map((d) => d.dest).join(', ')}` : ''}`,
      );
    return found;
  }

  /** The newest archive of each destination (or every archive with `all`). */
  newest(all = false): ArchiveFile[] {
    const dests = this.dests();
    const targets: ArchiveFile[] = [];
    for (const d of dests) {
      const list = listArchiveFiles(d.dest, d.task);
      targets.push(...(all ? list : list.slice(0, 1)));
    }
    const unique = [...new Map(targets.map((t) => [t.path, t])).values()];
    if (unique.length === 0) throw new UsageError(`no archives in ${dests.map((d) => d.dest).join(', ')}`);
    return unique;
  }

  /** Re-reads an archive, checks every checksum, and remembers the outcome beside it. */
  async verify(archive: ArchiveFile, onProgress?: Progress): Promise<VerifyOutcome> {
    const started = performance.now();
    const check = await checkArchive(archive.path, {
      onProgress: (done, total) => onProgress?.(done, total, archive.name),
    });
    const ms = performance.now() - started;
    try {
      writeVerifyState(archive.path, {
        at: new Date().toISOString(),
        ok: check.ok,
        scope: 'full',
        by: 'cli',
        problems: describeProblems(check),
      });
    } catch {
      // A read-only backup volume: the check still counts, it is only not remembered.
    }
    return { archive, check, ms, problems: describeProblems(check, 20) };
  }

  /**
   * Verifies an archive, then extracts it into a directory (never outside it); `to` a PostgreSQL
   * URL extracts into a temp dir, loads the dump and removes the dir.
   */
  async restore(r: RestoreRequest): Promise<RestoreOutcome> {
    const pg = restoreDatabase(r.to, r.postgres);
    if (!looksLikePostgresUrl(r.to)) return this.#restoreAny(r, pg);
    const scratch = mkdtempSync(join(tmpdir(), 'caretaker-restore-'));
    try {
      return { ...(await this.#restoreAny({ ...r, to: scratch }, pg)), scratch: true };
    } catch (err) {
      // The files were only a means: "files restored into <a dir now gone>" would mislead.
      const kept = `files restored into ${scratch}, but `;
      if (err instanceof TaskFailedError && err.message.startsWith(kept))
        throw new TaskFailedError(err.message.slice(kept.length));
      throw err;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  #restoreAny(r: RestoreRequest, pg: PgSource | undefined): Promise<RestoreOutcome> {
    // --to is checked before an archive is read or downloaded.
    this.#checkTarget(r.to);
    if (looksLikeCopyUrl(r.archive)) return this.#restoreCopy(r, pg);
    return this.#restoreFound(r, this.find(r.archive), pg);
  }

  async #restoreCopy(r: RestoreRequest, pg: PgSource | undefined): Promise<RestoreOutcome> {
    try {
      const { target, archive, configured } = await openCopy(r.archive, this.#copies());
      try {
        const ids = identitiesFor(r.identity, configured);
        return await withRemoteArchive(target, archive, ids, (path) =>
          this.#restoreFound(
            r,
            {
              name: archive.name,
              path,
              task: archive.task,
              time: archive.time,
              seq: archive.seq,
              compressed: archive.name.endsWith('.gz'),
              size: archive.size,
            },
            pg,
          ),
        );
      } finally {
        target.close();
      }
    } catch (err) {
      const line = copyFailure(err, r.archive);
      if (line !== undefined) throw new TaskFailedError(line);
      throw err;
    }
  }

  /** A --to that is unsafe (the state dir, /, home) or cannot be a directory: exit 2, nothing read. */
  #checkTarget(dir: string): void {
    // The state dir is protected even when the configuration has errors (read from the raw file).
    const stateDir =
      this.#o.configPath === undefined ? NO_STATE_DIR : locateState(this.#o.configPath).stateDir;
    try {
      new PathGuard({ stateDir, home: homedir() }).assertRoot(resolve(dir), '--to');
      checkRestoreTarget(dir);
    } catch (err) {
      if (err instanceof UnsafePathError || err instanceof RestoreTargetError)
        throw new UsageError(err.message);
      throw err;
    }
  }

  async #restoreFound(
    r: RestoreRequest,
    found: ArchiveFile,
    pg: PgSource | undefined,
  ): Promise<RestoreOutcome> {
    const to = resolve(r.to);
    const record = await this.#record(found, to);
    try {
      const outcome = await this.#extract(r, found, to, pg);
      return { ...outcome, scratch: false, run: (await record?.finished(outcome)) ?? null };
    } catch (err) {
      await record?.failed(err);
      throw err;
    }
  }

  async #extract(
    r: RestoreRequest,
    found: ArchiveFile,
    to: string,
    pg: PgSource | undefined,
  ): Promise<Omit<RestoreOutcome, 'run' | 'scratch'>> {
    let dump: string | undefined;
    let result: RestoreResult;
    try {
      result = await restoreArchive(found.path, {
        to,
        only: r.only,
        force: r.force === true,
        skipExternalLinks: r.skipExternalLinks === true,
        onProgress: r.onProgress,
        beforeExtract: (plan) => {
          if (!pg) return;
          // The database came with --postgres, or as the --to URL (restoreDatabase allows one).
          const flag = r.postgres !== undefined ? '--postgres' : '--to';
          // Decided before anything is written: which dump goes into the database.
          const dumps = [...plan.entries.values()].filter((e) => e.kind === 'postgres');
          if (dumps.length === 0)
            throw new UsageError(`${flag}: the archive (or the --only selection) holds no PostgreSQL dump`);
          if (dumps.length > 1)
            throw new UsageError(
              `${flag}: ${dumps.length} PostgreSQL dumps selected (${dumps.map((d) => d.path).join(', ')}); choose one with --only`,
            );
          dump = dumps[0]!.dest;
        },
      });
    } catch (err) {
      if (err instanceof RestoreRefusedError || err instanceof RestoreFailedError)
        throw new TaskFailedError(err.message);
      if (err instanceof ManifestError || err instanceof RestoreTargetError)
        throw new UsageError(err.message); // a damaged sidecar, --to: exit 2
      throw err;
    }
    if (r.only === undefined && result.proof === 'sidecar') {
      try {
        writeVerifyState(found.path, {
          at: new Date().toISOString(),
          ok: true,
          scope: 'full',
          by: 'restore',
          problems: [],
        });
      } catch {
        // read-only backup volume
      }
    }
    if (pg && dump) {
      const run = toolRunner(
        { cwd: to, signal: new AbortController().signal, killGraceMs: 5_000, clock: new SystemClock() },
        [pg],
      );
      try {
        await pgRestore(pg, dump, run, r.force === true);
      } catch (err) {
        if (err instanceof PgToolError)
          throw new TaskFailedError(`files restored into ${result.root}, but ${err.message}`);
        throw err;
      }
    }
    return {
      ...result,
      archive: found,
      postgres: pg && dump ? { url: pg.shown, dump } : null,
      dumps: pg && dump ? [] : result.restored.filter((e) => e.kind === 'postgres').map((e) => e.path),
    };
  }

  /**
   * A restore is recorded like a run, in the history of the task that made the archive (trigger
   * `restore`: it never counts as a run of that task). Without a configuration there is no
   * history to record it in; neither is there when the configuration has errors.
   */
  async #record(found: ArchiveFile, to: string): Promise<RestoreRecord | null> {
    let config: Config | undefined;
    try {
      config = this.#configuration();
    } catch (err) {
      if (err instanceof ConfigError) return null;
      throw err;
    }
    if (!config) return null;
    const [{ openStore }, { maskingStore }, { configSecretValues }] = await Promise.all([
      import('../store/open-store.js'),
      import('./masking-store.js'),
      import('./secret-names.js'),
    ]);
    const store = maskingStore(await openStore(config.store), () => configSecretValues(config));
    const clock = new SystemClock();
    const task = config.tasks.some((t) => t.id === found.task) ? found.task : '(restore)';
    const started = clock.now();
    // Durations from the monotonic clock: a wall-clock step during a restore must not skew it.
    const t0 = performance.now();
    const elapsed = () => Math.round(performance.now() - t0);
    const row = await store.insertRun({
      task,
      host: config.host,
      trigger: 'restore',
      scheduledFor: null,
      notBefore: started,
      queuedAt: started,
      status: 'running',
      startedAt: started,
      attempt: 1,
      dryRun: false,
      pid: process.pid,
    });
    const close = () => store.close();
    return {
      async finished(o) {
        try {
          return await store.finishRun(row.id, {
            status: o.skipped.length > 0 ? 'warning' : 'success',
            finishedAt: clock.now(),
            durationMs: elapsed(),
            result: {
              ok: true,
              summary: `restored ${o.files} file${o.files === 1 ? '' : 's'} (${formatSize(o.bytes)}) from ${found.name} into ${o.root}${o.postgres ? `, and its dump into ${o.postgres.url}` : ''}`,
              changed: o.files + o.dirs + o.symlinks > 0,
              filesModified: o.files,
              warnings:
                o.skipped.length > 0 ? o.skipped.map((s) => `skipped ${s.path}: ${s.why}`) : undefined,
              details: { archive: found.path, to: o.root, proof: o.proof, replaced: o.replaced },
            },
          });
        } finally {
          await close();
        }
      },
      async failed(err) {
        try {
          await store.finishRun(row.id, {
            status: 'failed',
            finishedAt: clock.now(),
            durationMs: elapsed(),
            reason: `restore of ${found.name} into ${to} failed: ${(err as Error).message}`,
          });
        } finally {
          await close();
        }
      },
    };
  }
}

interface RestoreRecord {
  finished(outcome: Omit<RestoreOutcome, 'run' | 'scratch'>): Promise<RunRecord>;
  failed(err: unknown): Promise<void>;
}
