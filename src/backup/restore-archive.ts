/**
 * Restores an archive into a directory: proves the archive is the one that was written (its
 * SHA-256 against the sidecar, or a full verification when there is no sidecar), plans and
 * checks every entry (restore-plan.ts), then extracts in one streaming pass. Every file's
 * SHA-256 is checked as it is written; new files are created with O_EXCL|O_NOFOLLOW, replaced
 * ones go through a temp file and a rename, so a file is never left half-restored under its name.
 */
import { plural } from '../core/plural.js';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  lutimesSync,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  chmodSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readArchive } from './archive-reader.js';
import { makeRestoreTarget } from './restore-target.js';
import { EntryHasher, sha256OfFile } from './file-hash.js';
import { loadSidecar, MANIFEST_NAME, ManifestError, type Manifest } from './manifest.js';
import {
  planRestore,
  RestoreRefusedError,
  unsafePathReason,
  type PlannedEntry,
  type Refusal,
  type RestorePlan,
} from './restore-plan.js';
import { checkArchive, describeProblems } from './verify-archive.js';

export interface RestoreOptions {
  readonly to: string;
  readonly only?: string;
  readonly force: boolean;
  readonly skipExternalLinks?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number, label: string) => void;
  /** Called with the checked plan before anything is written; may throw to refuse. */
  readonly beforeExtract?: (plan: RestorePlan) => void;
}

export interface RestoreResult {
  readonly root: string;
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly bytes: number;
  readonly replaced: number;
  readonly skipped: readonly Refusal[];
  /** Links restored as links although they point outside the target (never followed). */
  readonly externalLinks: RestorePlan['externalLinks'];
  readonly manifest: Manifest;
  /** Entries restored, for follow-up steps (database restores, drills). */
  readonly restored: readonly PlannedEntry[];
  /** How the archive was proven before extracting. */
  readonly proof: 'sidecar' | 'full-verify';
}

/** The restore stopped part-way (after the checks passed): what was restored stays. */
export class RestoreFailedError extends Error {
  override name = 'RestoreFailedError';
}

function currentUmask(): number {
  const mask = process.umask(0o022); // reading the umask means setting it: put it straight back
  process.umask(mask);
  return mask;
}

/** The real path of a directory that may not exist yet (its nearest existing ancestor resolved). */
function realTarget(dir: string): string {
  const abs = resolve(dir);
  const missing: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    try {
      return join(realpathSync(p), ...missing.reverse());
    } catch {
      if (p === dirname(p)) return abs;
      missing.push(basename(p));
    }
  }
}

/** Proves the archive and returns its manifest; refuses (nothing written) when it cannot. */
async function proveArchive(
  archive: string,
  o: RestoreOptions,
): Promise<{ manifest: Manifest; proof: RestoreResult['proof'] }> {
  const read = loadSidecar(archive);
  // A damaged sidecar is not "no sidecar": restoring on the embedded manifest alone would hide it.
  if (read.state === 'damaged')
    throw new ManifestError(
      `refusing to restore; nothing was written: ${read.error.message}. Move it aside to restore after a full verification of the archive against its own manifest`,
    );
  if (read.state === 'ok') {
    const sidecar = read.sidecar;
    if (sha256OfFile(archive, o.signal) !== sidecar.archive.sha256)
      throw new RestoreRefusedError(
        `refusing to restore; nothing was written: ${archive} differs from its sidecar checksum (it changed after it was written); run caretaker backup verify for details`,
        [],
      );
    return { manifest: sidecar, proof: 'sidecar' };
  }
  const check = await checkArchive(archive, { signal: o.signal });
  if (!check.ok || !check.manifest)
    throw new RestoreRefusedError(
      `refusing to restore; nothing was written: ${describeProblems(check, 3).join('; ')}`,
      [],
    );
  return { manifest: check.manifest, proof: 'full-verify' };
}

export async function restoreArchive(archive: string, o: RestoreOptions): Promise<RestoreResult> {
  const { manifest, proof } = await proveArchive(archive, o);
  const plan = planRestore(manifest.entries, {
    root: realTarget(o.to),
    only: o.only,
    force: o.force,
    skipExternalLinks: o.skipExternalLinks,
  });
  o.beforeExtract?.(plan);
  const inManifest = new Set(manifest.entries.map((m) => m.path));
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  const isRoot = uid === 0;
  const umask = currentUmask();
  // Without root, setuid/setgid bits are not restored (as tar does for ordinary users).
  const modeOf = (m: number) => (isRoot ? m & 0o7777 : m & 0o1777);
  makeRestoreTarget(o.to, plan.root);

  const made = new Set<string>([plan.root]);
  const ensureDir = (dir: string) => {
    if (made.has(dir)) return;
    ensureDir(dirname(dir));
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    made.add(dir);
  };

  const seen = new Set<string>();
  const restored: PlannedEntry[] = [];
  const dirs: PlannedEntry[] = [];
  let files = 0;
  let symlinks = 0;
  let bytes = 0;
  let replaced = 0;
  let open:
    | { fd: number; entry: PlannedEntry; hash: EntryHasher; tmp: string | undefined; written: number }
    | undefined;
  const abandon = () => {
    if (!open) return;
    closeSync(open.fd);
    rmSync(open.tmp ?? open.entry.dest, { force: true });
    open = undefined;
  };
  const refuse = (path: string, why: string): never => {
    throw new RestoreRefusedError(
      `refusing to go on: ${path}: ${why}; ${plural(files + symlinks, 'entry', 'entries')} had been restored into ${plan.root}, nothing outside it`,
      [{ path, why }],
    );
  };

  try {
    await readArchive(
      archive,
      {
        entry(e) {
          if (e.path === MANIFEST_NAME) return;
          const why = unsafePathReason(e.path);
          if (why) refuse(e.path, why);
          if (seen.has(e.path)) refuse(e.path, 'appears twice in the archive');
          seen.add(e.path);
          const p = plan.entries.get(e.path);
          if (!p) {
            if (!inManifest.has(e.path)) refuse(e.path, 'is in the archive but not in its manifest');
            return; // not selected (--only), or a skipped link
          }
          const type =
            e.type === 'File'
              ? 'file'
              : e.type === 'Directory'
                ? 'dir'
                : e.type === 'SymbolicLink'
                  ? 'symlink'
                  : e.type;
          if (
            type !== p.type ||
            (p.type === 'file' && e.size !== p.size) ||
            (p.type === 'symlink' && e.linkpath !== p.target)
          )
            refuse(e.path, 'differs from its manifest entry');
          ensureDir(dirname(p.dest));
          if (p.type === 'dir') {
            ensureDir(p.dest);
            dirs.push(p);
          } else if (p.type === 'symlink') {
            if (p.replaces) unlinkSync(p.dest);
            symlinkSync(p.target ?? '', p.dest);
            lutimesSync(p.dest, p.mtime / 1000, p.mtime / 1000);
            if (isRoot && p.uid !== undefined && p.gid !== undefined) lchownSync(p.dest, p.uid, p.gid);
            symlinks++;
          } else {
            const tmp = p.replaces ? `${p.dest}.caretaker-restore-${process.pid}` : undefined;
            // Created with its final permission bits (owner-only until then if it has special ones).
            const fd = openSync(
              tmp ?? p.dest,
              constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
              p.mode & 0o7000 ? 0o600 : p.mode & 0o777,
            );
            open = { fd, entry: p, hash: new EntryHasher(p.size), tmp, written: 0 };
          }
          restored.push(p);
        },
        data(chunk) {
          if (!open) return;
          open.hash.update(chunk);
          let off = 0;
          while (off < chunk.length) off += writeSync(open.fd, chunk, off, chunk.length - off);
          open.written += chunk.length;
        },
        entryEnd() {
          if (!open) return;
          const { fd, entry, hash, tmp } = open;
          if (entry.sha256 && hash.digest() !== entry.sha256) {
            abandon();
            throw new RestoreFailedError(`${entry.path} does not match its checksum; it was not restored`);
          }
          // Syscalls only where open() could not already get it right: they add up over 100,000 files.
          const mode = modeOf(entry.mode);
          if ((mode & ~0o777) !== 0 || (mode & umask) !== 0) fchmodSync(fd, mode);
          if (
            isRoot &&
            entry.uid !== undefined &&
            entry.gid !== undefined &&
            (entry.uid !== uid || entry.gid !== gid)
          )
            fchownSync(fd, entry.uid, entry.gid);
          futimesSync(fd, entry.mtime / 1000, entry.mtime / 1000);
          closeSync(fd);
          open = undefined;
          if (tmp) {
            renameSync(tmp, entry.dest);
            replaced++;
          }
          files++;
          bytes += entry.size;
          o.onProgress?.(bytes, manifest.bytes, entry.path);
        },
      },
      { signal: o.signal },
    );
  } catch (err) {
    abandon();
    if (err instanceof RestoreRefusedError || o.signal?.aborted) throw err;
    const e = err as NodeJS.ErrnoException;
    const where = e.code === 'ENOSPC' ? `${plan.root} is full` : e.message;
    throw new RestoreFailedError(
      `restore stopped: ${where}; ${plural(files, 'file')} had been restored into ${plan.root} before that`,
    );
  }
  const unseen = [...plan.entries.keys()].filter((p) => !seen.has(p));
  if (unseen.length > 0)
    throw new RestoreFailedError(
      `the archive ended without ${plural(unseen.length, 'entry', 'entries')} of its manifest (first: ${unseen[0]})`,
    );
  // Directories last, deepest first: writing into them would change their mtime again.
  for (const d of dirs.sort((a, b) => b.path.length - a.path.length)) {
    chmodSync(d.dest, modeOf(d.mode));
    if (isRoot && d.uid !== undefined && d.gid !== undefined) lchownSync(d.dest, d.uid, d.gid);
    utimesSync(d.dest, d.mtime / 1000, d.mtime / 1000);
  }
  return {
    root: plan.root,
    files,
    dirs: dirs.length,
    symlinks,
    bytes,
    replaced,
    skipped: plan.skipped,
    externalLinks: plan.externalLinks,
    manifest,
    restored,
    proof,
  };
}
