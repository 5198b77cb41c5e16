/** backup restore ARCHIVE --to DIR [--only GLOB] [--force] [--postgres URL] [--skip-external-links] */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { findArchive } from '../../backup/catalog.js';
import { pgRestore, pgSource, PgToolError, requireTool, type PgSource } from '../../backup/postgres.js';
import { restoreArchive, RestoreFailedError } from '../../backup/restore-archive.js';
import { RestoreRefusedError } from '../../backup/restore-plan.js';
import { toolRunner } from '../../backup/tool-runner.js';
import { writeVerifyState } from '../../backup/verify-state.js';
import { formatSize } from '../../core/size.js';
import { SystemClock } from '../../engine/clock.js';
import { TaskFailedError } from '../../errors/task-failed-error.js';
import { UsageError } from '../../errors/usage-error.js';
import { PathGuard, UnsafePathError } from '../../safety/path-guard.js';
import { printJson, type Io } from '../context.js';
import { ProgressBar } from '../progress-bar.js';
import { backupDests, optionalConfig, type DestOptions } from './backup.js';

/** Without a config there is no state dir to protect; a NUL byte matches no real path. */
const NO_STATE_DIR = '/\0no-state-dir';

export interface RestoreCommandOptions extends DestOptions {
  readonly to?: string;
  readonly only?: string;
  readonly force?: boolean;
  readonly postgres?: string;
  readonly skipExternalLinks?: boolean;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export async function backupRestoreCommand(
  archive: string,
  opts: RestoreCommandOptions,
  io: Io,
): Promise<number> {
  if (!opts.to) throw new UsageError('backup restore needs --to DIR (the directory to restore into)');
  const bare = /^[^/]+$/.test(archive) && !existsSync(archive);
  const config = bare || opts.config ? optionalConfig(opts) : undefined;
  const found = findArchive(archive, bare ? backupDests(opts, config) : []);
  if (!found) throw new UsageError(`no archive ${archive}`);
  const to = resolve(opts.to);
  try {
    new PathGuard({ stateDir: config?.stateDir ?? NO_STATE_DIR, home: homedir() }).assertRoot(to, '--to');
  } catch (err) {
    if (err instanceof UnsafePathError) throw new UsageError(err.message);
    throw err;
  }
  let pg: PgSource | undefined;
  if (opts.postgres !== undefined) {
    try {
      pg = pgSource(opts.postgres);
      requireTool('pg_restore');
    } catch (err) {
      throw new UsageError(`--postgres: ${(err as Error).message}`);
    }
  }

  const bar = new ProgressBar();
  let dump: string | undefined;
  let result;
  try {
    result = await restoreArchive(found.path, {
      to,
      only: opts.only,
      force: opts.force === true,
      skipExternalLinks: opts.skipExternalLinks === true,
      onProgress: (done, total, label) => bar.update({ done, total, unit: 'bytes', label }),
      beforeExtract: (plan) => {
        if (!pg) return;
        // Decided before anything is written: which dump goes into the database.
        const dumps = [...plan.entries.values()].filter((e) => e.kind === 'postgres');
        if (dumps.length === 0)
          throw new UsageError('--postgres: the archive (or the --only selection) holds no PostgreSQL dump');
        if (dumps.length > 1)
          throw new UsageError(
            `--postgres: ${dumps.length} PostgreSQL dumps selected (${dumps.map((d) => d.path).join(', ')}); choose one with --only`,
          );
        dump = dumps[0]!.dest;
      },
    });
  } catch (err) {
    bar.done();
    if (err instanceof RestoreRefusedError || err instanceof RestoreFailedError)
      throw new TaskFailedError(err.message);
    throw err;
  }
  bar.done();
  if (opts.only === undefined && result.proof === 'sidecar') {
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
  let pgNote: string | undefined;
  if (pg && dump) {
    const run = toolRunner(
      { cwd: to, signal: new AbortController().signal, killGraceMs: 5_000, clock: new SystemClock() },
      [pg],
    );
    try {
      await pgRestore(pg, dump, run, opts.force === true);
    } catch (err) {
      if (err instanceof PgToolError)
        throw new TaskFailedError(`files restored into ${result.root}, but ${err.message}`);
      throw err;
    }
    pgNote = `restored ${dump} into ${pg.shown}`;
  }
  const dumps = result.restored.filter((e) => e.kind === 'postgres');
  if (opts.json) {
    printJson(io, {
      archive: found.path,
      to: result.root,
      files: result.files,
      dirs: result.dirs,
      symlinks: result.symlinks,
      bytes: result.bytes,
      replaced: result.replaced,
      proof: result.proof,
      skipped: result.skipped,
      postgres: pg ? { url: pg.shown, dump } : null,
    });
    return 0;
  }
  io.out(
    `restored ${count(result.files, 'file')}, ${count(result.dirs, 'directory', 'directories')}, ${count(result.symlinks, 'link')} (${formatSize(result.bytes)}) from ${found.name} into ${result.root}` +
      (result.replaced ? `; ${result.replaced} existing files replaced` : ''),
  );
  io.out(
    result.proof === 'sidecar'
      ? 'archive checksum matched its sidecar; every file matched its SHA-256'
      : 'no sidecar: the archive was fully verified first; every file matched its SHA-256',
  );
  for (const s of result.skipped) io.out(`skipped ${s.path}: ${s.why}`);
  if (pgNote) io.out(pgNote);
  else if (dumps.length > 0)
    io.out(
      `PostgreSQL dump${dumps.length > 1 ? 's' : ''} restored as file${dumps.length > 1 ? 's' : ''} only (${dumps.map((d) => d.path).join(', ')}); load into a database with --postgres URL`,
    );
  return 0;
}
