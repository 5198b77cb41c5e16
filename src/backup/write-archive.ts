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
} from 'node:fs';
import { dirname, join } from 'node:path';
import { formatSize } from '../core/size.js';
import { isWithin } from '../core/path-within.js';
import { archiveName } from './archive-name.js';
import { fsyncDirSync } from '../os/atomic-write.js';
import { freeBytes, neededBytes } from './disk-space.js';
import { ArchiveFileOutput, ParallelGzipSink, PlainSink, type WriteFaults } from './gzip-blocks.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  serializeManifest,
  writeSidecar,
  type Manifest,
} from './manifest.js';
import { packEntries, type PackItem } from './pack-entries.js';
import { pgDump, type PgSource, type ToolRunner } from './postgres.js';
import { copySqlite, sqliteCompanions } from './sqlite-copy.js';
import { TarWriter } from './tar-writer.js';
import { archivePathOf, walkTree } from './tree-walk.js';
import { checkArchive, describeProblems } from './verify-archive.js';
import { writeVerifyState } from './verify-state.js';
import { makeDirSync } from '../os/make-dir.js';

export interface WriteArchiveOptions {
  readonly task: string;
  readonly host: string;
  readonly version: string;
  /** Absolute; created when missing. */
  readonly dest: string;
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
  readonly verify: boolean;
  /** archive bytes / input bytes of recent backups, for the free-space estimate. */
  readonly ratioHint?: number;
  readonly signal: AbortSignal;
  readonly runTool: ToolRunner;
  readonly onProgress?: (done: number, total: number, label: string) => void;
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

export async function writeArchive(o: WriteArchiveOptions): Promise<WriteArchiveResult> {
  const compressed = o.compression !== 'none';
  const name = pickName(o.dest, o.task, o.time, compressed);
  const path = join(o.dest, name);
  const tmp = `${path}.tmp`;
  const staging = `${path}.staging`;

  const walk = await walkTree({
    roots: o.roots,
    isExcluded: o.isExcluded,
    isSkipped: skipRule(o.dest, o.protectedDirs, o.sqlite),
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
  const dbBytes = dbStats.reduce((sum, st) => sum + st.size, 0);
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
    const staged: PackItem[] = [];
    if (o.sqlite.length + o.postgres.length > 0) mkdirSync(staging, { mode: 0o700 });
    for (const [i, db] of o.sqlite.entries()) {
      const copy = join(staging, `sqlite-${i}.db`);
      await copySqlite(db, copy);
      const st = dbStats[i]!;
      staged.push({ ...stagedItem(copy, archivePathOf(db), st), kind: 'sqlite' });
    }
    const dumpNames = new Set<string>();
    for (const [i, src] of o.postgres.entries()) {
      o.signal.throwIfAborted();
      const file = join(staging, `postgres-${i}.dump`);
      await pgDump(src, file, o.runTool, !compressed);
      let base = src.database.replace(/[^\w.-]/g, '_');
      for (let n = 2; dumpNames.has(base); n++) base = `${src.database.replace(/[^\w.-]/g, '_')}-${n}`;
      dumpNames.add(base);
      staged.push({
        ...stagedItem(file, `postgres/${base}.dump`, statSync(file)),
        kind: 'postgres',
        source: src.shown,
      });
    }
    if (o.postgres.length > 0)
      await checkSpace(
        staged.reduce((s, it) => s + it.size, 0),
        'after the database dumps',
      );

    const collisions = staged.filter(
      (s) => walk.entries.some((e) => e.path === s.path) || s.path === MANIFEST_NAME,
    );
    if (collisions.length > 0) throw new BackupError(`two sources would be stored as ${collisions[0]!.path}`);

    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let out: ArchiveFileOutput;
    let manifest: Manifest;
    let packed: Awaited<ReturnType<typeof packEntries>>;
    try {
      out = new ArchiveFileOutput(fd, o.faults);
      const sink = compressed
        ? new ParallelGzipSink(out, o.compression as number, o.parallel)
        : new PlainSink(out);
      const writer = new TarWriter(sink);
      const total = walk.bytes + staged.reduce((s, it) => s + it.size, 0);
      packed = await packEntries(writer, [...walk.entries, ...staged], {
        signal: o.signal,
        onProgress: (done, label) => o.onProgress?.(done, total, label),
      });
      manifest = {
        format: MANIFEST_FORMAT,
        version: o.version,
        host: o.host,
        task: o.task,
        createdAt: new Date(o.time).toISOString(),
        compression: o.compression,
        files: packed.files,
        bytes: packed.bytes,
        entries: packed.entries,
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
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
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
    const warnings = [...walk.skipped.map((s) => `${s.path}: ${s.why}`), ...packed.warnings];
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
    const count = (t: string) => packed.entries.filter((e) => e.type === t).length;
    return {
      path,
      name,
      files: packed.files - staged.length,
      dirs: count('dir'),
      symlinks: count('symlink'),
      databases: staged.length,
      bytesIn: packed.bytes,
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
