/**
 * Writes one backup archive: walk the roots, check the free space, stage consistent database
 * copies, stream everything into `<name>.tmp`, fsync, optionally re-read and check it, write the
 * sidecar, and only then rename it to its final name. A crash or a full disk never leaves a file
 * that looks like a finished backup; a failure removes what it wrote.
 */
import {
  closeSync,
  existsSync,
  constants,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { formatSize } from '../core/size.js';
import { isWithin } from '../core/path-within.js';
import { archiveName } from './archive-name.js';
import { fsyncDirSync } from '../os/atomic-write.js';
import { freeBytes, neededBytes } from './disk-space.js';
import {
  ArchiveFileOutput,
  ParallelGzipSink,
  PlainSink,
  type ArchiveOutput,
  type WriteFaults,
} from './gzip-blocks.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  serializeManifest,
  writeSidecar,
  type Manifest,
} from './manifest.js';
import { packEntries, type PackItem, type PackOutcome } from './pack-entries.js';
import { pgDump, type PgSource, type ToolRunner } from './postgres.js';
import { copySqlite, sqliteCompanions } from './sqlite-copy.js';
import { TarWriter } from './tar-writer.js';
import { archivePathOf, walkTree, type WalkResult } from './tree-walk.js';
import { checkArchive, describeProblems } from './verify-archive.js';
import { writeVerifyState } from './verify-state.js';
import { makeDirSync } from '../os/make-dir.js';

/** What goes into an archive, wherever it is written. */
export interface ArchiveSourceOptions {
  readonly task: string;
  readonly host: string;
  readonly version: string;
  /** The run's start (ms): the archive's name. */
  readonly time: number;
  readonly roots: readonly string[];
  readonly isExcluded: (abs: string) => boolean;
  /** Never archived by the walk (caretaker's state dir). */
  readonly protectedDirs: readonly string[];
  readonly sqlite: readonly string[];
  readonly postgres: readonly PgSource[];
  readonly compression: number | 'none';
  /** gzip blocks compressed at once. */
  readonly parallel: number;
  readonly signal: AbortSignal;
  readonly runTool: ToolRunner;
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

export interface WriteArchiveOptions extends ArchiveSourceOptions {
  /** Absolute; created when missing. */
  readonly dest: string;
  readonly verify: boolean;
  /** archive bytes / input bytes of recent backups, for the free-space estimate. */
  readonly ratioHint?: number;
  readonly faults?: WriteFaults;
}

export interface WriteArchiveResult {
  readonly path: string;
  readonly name: string;
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly databases: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly sha256: string;
  readonly verified: boolean;
  readonly warnings: string[];
}

/** A backup that could not be made, with a message for the operator. */
export class BackupError extends Error {
  override name = 'BackupError';
}

function pickName(dest: string, task: string, time: number, compressed: boolean): string {
  for (let seq = 1; ; seq++) {
    const name = archiveName(task, time, compressed, seq);
    const taken = [name, `${name}.tmp`, `${name}.staging`].some((n) => {
      try {
        lstatSync(join(dest, n));
        return true;
      } catch {
        return false;
      }
    });
    if (!taken) return name;
  }
}

/**
 * What a walk never archives: the destination (no archive of archives), caretaker's state dir,
 * and the databases copied through SQLite's backup API (with their -wal, -shm and -journal).
 */
export function skipRule(dest: string, protectedDirs: readonly string[], sqlite: readonly string[]) {
  const companions = new Set(sqlite.flatMap(sqliteCompanions));
  return (abs: string): boolean =>
    companions.has(abs) || isWithin(abs, dest) || protectedDirs.some((d) => isWithin(abs, d));
}

function existingAncestor(dir: string): string {
  for (let d = dir; ; d = dirname(d)) if (existsSync(d) || d === dirname(d)) return d;
}

function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT' || /SQLITE_FULL|database or disk is full/i.test(String(err));
}

/** The walk of the roots, and the databases' sizes (before anything is copied). */
export interface ArchiveSources {
  readonly walk: WalkResult;
  readonly dbStats: readonly Stats[];
}

/**
 * Walks the roots (skipping `skipDirs`: the archive's own destination) and checks that there is
 * something to back up and that every SQLite database exists.
 */
export async function walkSources(
  o: ArchiveSourceOptions,
  skip: (abs: string) => boolean,
): Promise<ArchiveSources> {
  const walk = await walkTree({
    roots: o.roots,
    isExcluded: o.isExcluded,
    isSkipped: skip,
    signal: o.signal,
  });
  if (walk.entries.length === 0 && o.sqlite.length + o.postgres.length === 0)
    throw new BackupError(
      `nothing to back up: ${o.roots.length ? 'every path is excluded or skipped' : 'the paths match no files'}`,
    );
  const dbStats = o.sqlite.map((db) => {
    try {
      return statSync(db);
    } catch {
      throw new BackupError(`sqlite: ${db} does not exist`);
    }
  });
  return { walk, dbStats };
}

/**
 * Consistent copies of the databases in `staging` (a private directory the caller creates and
 * removes): SQLite through the online backup API, PostgreSQL with pg_dump. A tar header needs
 * the size before the data, so a dump cannot stream straight into the archive.
 */
export async function stageDatabases(
  o: ArchiveSourceOptions,
  src: ArchiveSources,
  staging: string,
  afterDumps?: (staged: number) => Promise<void>,
): Promise<PackItem[]> {
  const staged: PackItem[] = [];
  for (const [i, db] of o.sqlite.entries()) {
    const copy = join(staging, `sqlite-${i}.db`);
    await copySqlite(db, copy);
    const st = src.dbStats[i]!;
    staged.push({ ...stagedItem(copy, archivePathOf(db), st), kind: 'sqlite' });
  }
  const dumpNames = new Set<string>();
  const compressed = o.compression !== 'none';
  for (const [i, pg] of o.postgres.entries()) {
    o.signal.throwIfAborted();
    const file = join(staging, `postgres-${i}.dump`);
    await pgDump(pg, file, o.runTool, !compressed);
    let base = pg.database.replace(/[^\w.-]/g, '_');
    for (let n = 2; dumpNames.has(base); n++) base = `${pg.database.replace(/[^\w.-]/g, '_')}-${n}`;
    dumpNames.add(base);
    staged.push({
      ...stagedItem(file, `postgres/${base}.dump`, statSync(file)),
      kind: 'postgres',
      source: pg.shown,
    });
  }
  if (o.postgres.length > 0) await afterDumps?.(staged.reduce((s, it) => s + it.size, 0));

  const collisions = staged.filter(
    (s) => src.walk.entries.some((e) => e.path === s.path) || s.path === MANIFEST_NAME,
  );
  if (collisions.length > 0) throw new BackupError(`two sources would be stored as ${collisions[0]!.path}`);
  return staged;
}

export interface Packed {
  readonly manifest: Manifest;
  readonly outcome: PackOutcome;
}

/** The tar stream of the entries and the staged databases, then MANIFEST.json, into `out`. */
export async function packArchive(
  o: ArchiveSourceOptions,
  out: ArchiveOutput,
  src: ArchiveSources,
  staged: readonly PackItem[],
): Promise<Packed> {
  const sink =
    o.compression !== 'none' ? new ParallelGzipSink(out, o.compression, o.parallel) : new PlainSink(out);
  const writer = new TarWriter(sink);
  const total = src.walk.bytes + staged.reduce((s, it) => s + it.size, 0);
  const outcome = await packEntries(writer, [...src.walk.entries, ...staged], {
    signal: o.signal,
    onProgress: (done, label) => o.onProgress?.(done, total, label),
  });
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: o.version,
    host: o.host,
    task: o.task,
    createdAt: new Date(o.time).toISOString(),
    compression: o.compression,
    files: outcome.files,
    bytes: outcome.bytes,
    entries: outcome.entries,
  };
  const body = Buffer.from(serializeManifest(manifest));
  const now = Date.now();
  await writer.header({
    path: MANIFEST_NAME,
    type: 'File',
    size: body.length,
    mode: 0o600,
    mtimeMs: now,
  });
  await writer.bufferData(body);
  await writer.finish();
  return { manifest, outcome };
}

/** The counts of a result, from what was packed. */
export function packedCounts(
  p: PackOutcome,
  staged: readonly PackItem[],
): Pick<WriteArchiveResult, 'files' | 'dirs' | 'symlinks' | 'databases' | 'bytesIn'> {
  const count = (t: string) => p.entries.filter((e) => e.type === t).length;
  return {
    files: p.files - staged.length,
    dirs: count('dir'),
    symlinks: count('symlink'),
    databases: staged.length,
    bytesIn: p.bytes,
  };
}

export async function writeArchive(o: WriteArchiveOptions): Promise<WriteArchiveResult> {
  const compressed = o.compression !== 'none';
  const name = pickName(o.dest, o.task, o.time, compressed);
  const path = join(o.dest, name);
  const tmp = `${path}.tmp`;
  const staging = `${path}.staging`;

  const src = await walkSources(o, skipRule(o.dest, o.protectedDirs, o.sqlite));
  const { walk } = src;
  const dbBytes = src.dbStats.reduce((sum, st) => sum + st.size, 0);
  const checkSpace = async (staged: number, stage: string) => {
    const need = neededBytes({ bytes: walk.bytes, entries: walk.entries.length, staged }, o.ratioHint);
    const free = await freeBytes(existingAncestor(o.dest));
    if (need > free)
      throw new BackupError(
        `not enough free space in ${o.dest} ${stage}: the backup needs about ${formatSize(need)} (input ${formatSize(walk.bytes + staged)}), ${formatSize(free)} is free`,
      );
  };
  await checkSpace(dbBytes, 'to start');
  makeDirSync(o.dest, { mode: 0o700 });

  let wroteSidecar = false;
  let renamed = false;
  try {
    if (o.sqlite.length + o.postgres.length > 0) mkdirSync(staging, { mode: 0o700 });
    const staged = await stageDatabases(o, src, staging, (bytes) =>
      checkSpace(bytes, 'after the database dumps'),
    );

    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let out: ArchiveFileOutput;
    let packed: Packed;
    try {
      out = new ArchiveFileOutput(fd, o.faults);
      packed = await packArchive(o, out, src, staged);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const { manifest } = packed;
    const sha256 = out.digest();

    let verified = false;
    if (o.verify) {
      const check = await checkArchive(tmp, { expected: manifest, signal: o.signal });
      if (!check.ok)
        throw new BackupError(
          `the new archive failed its verification: ${describeProblems(check, 3).join('; ')}`,
        );
      if (check.sha256 !== sha256)
        throw new BackupError('the new archive reads back with a different SHA-256 than was written');
      verified = true;
    }
    writeSidecar(path, { ...manifest, archive: { name, size: out.bytes, sha256 } });
    wroteSidecar = true;
    renameSync(tmp, path);
    renamed = true;
    fsyncDirSync(o.dest);
    const warnings = [...walk.skipped.map((s) => `${s.path}: ${s.why}`), ...packed.outcome.warnings];
    try {
      if (verified)
        writeVerifyState(path, {
          at: new Date().toISOString(),
          ok: true,
          scope: 'full',
          by: 'backup',
          problems: [],
        });
    } catch (err) {
      // The archive is complete and good; only its "verified" mark for `backup list` is missing.
      warnings.push(`could not record the verification of ${name}: ${(err as Error).message}`);
    }
    return {
      path,
      name,
      ...packedCounts(packed.outcome, staged),
      bytesOut: out.bytes,
      sha256,
      verified,
      warnings,
    };
  } catch (err) {
    rmSync(tmp, { force: true });
    if (wroteSidecar && !renamed) rmSync(`${path}.manifest.json`, { force: true });
    if (isDiskFull(err))
      throw new BackupError(`${o.dest} filled up while writing ${name}; the partial archive was removed`);
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function stagedItem(
  file: string,
  path: string,
  st: { mode: number; mtimeMs: number; uid: number; gid: number },
): PackItem {
  const size = statSync(file).size;
  return {
    abs: file,
    path,
    type: 'file',
    size,
    mode: st.mode & 0o7777,
    mtimeMs: st.mtimeMs,
    uid: st.uid,
    gid: st.gid,
  };
}
