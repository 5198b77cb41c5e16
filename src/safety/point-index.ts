/**
 * What earlier rollback points learned, so that the next one reads only what changed — git's
 * index does the same for `git status`. Per path: the stat fields that change whenever the
 * content does (size, mtime, ctime, inode, device) and the SHA-256 read then. Per stored blob:
 * its size, so that retention and garbage collection need one directory listing, not a stat of
 * every blob.
 *
 * A path's entry is only kept when the file's ctime was older than the moment it was read by more
 * than RACY_MS ("racy git"): a write in the same timestamp tick as the read would leave every
 * stat field as it was, and the entry would then name content the file no longer has. A file
 * changed in the last RACY_MS before a point is read again by the next one. ctime cannot be set
 * by a program (`touch -d` sets mtime and moves ctime to now), so a file rewritten with the same
 * size and mtime still shows a new ctime.
 *
 * Kept in `rollback/point-index.json`, written atomically under the rollback lock; a missing or
 * damaged index is rebuilt (every file read once more, every blob stat'ed once).
 */
import type { Stats } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../os/atomic-write.js';

/** Longer than any filesystem's timestamp granularity (FAT: 2 s). */
export const RACY_MS = 2_500;

/** size, mtimeMs, ctimeMs, ino, dev, sha256 */
type PathEntry = [number, number, number, number, number, string];

interface IndexFile {
  readonly version: 1;
  readonly paths: Record<string, PathEntry>;
  readonly blobs: Record<string, number>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export class PointIndex {
  #changed = false;

  private constructor(
    private readonly file: string,
    private readonly paths: Map<string, PathEntry>,
    /** Every blob on disk with its size (reconciled with the blob directory at load). */
    private readonly blobs: Map<string, number>,
  ) {}

  /** Reads the index and reconciles its blobs with what `blobDir` holds now. */
  static async load(file: string, blobDir: string): Promise<PointIndex> {
    let saved: IndexFile | undefined;
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as IndexFile;
      if (parsed.version === 1 && typeof parsed.paths === 'object' && typeof parsed.blobs === 'object')
        saved = parsed;
    } catch {
      // none yet, or damaged: rebuilt from the blobs and the next point's reads
    }
    const known = new Map(Object.entries(saved?.blobs ?? {}));
    const blobs = new Map<string, number>();
    let changed = saved === undefined;
    for (const sha of await blobNames(blobDir)) {
      const size = known.get(sha);
      if (size !== undefined) blobs.set(sha, size);
      else {
        blobs.set(sha, (await stat(join(blobDir, sha.slice(0, 2), sha.slice(2)))).size);
        changed = true;
      }
    }
    if (blobs.size !== known.size) changed = true;
    const paths = new Map<string, PathEntry>();
    for (const [path, e] of Object.entries(saved?.paths ?? {})) {
      // An entry whose blob is gone is of no use: the file must be read and stored again.
      if (blobs.has(e[5])) paths.set(path, e);
      else changed = true;
    }
    const index = new PointIndex(file, paths, blobs);
    index.#changed = changed;
    return index;
  }

  /** The SHA-256 of the file as it was read before, when nothing about it changed since. */
  knownSha(path: string, st: Stats): string | undefined {
    const e = this.paths.get(path);
    if (!e) return undefined;
    const same =
      e[0] === st.size && e[1] === st.mtimeMs && e[2] === st.ctimeMs && e[3] === st.ino && e[4] === st.dev;
    return same && this.blobs.has(e[5]) ? e[5] : undefined;
  }

  /** A file was read at `readAt` (wall clock, as file times are) with stat fields `st` from before. */
  remember(path: string, st: Stats, sha256: string, readAt: number): void {
    if (st.ctimeMs >= readAt - RACY_MS || st.mtimeMs >= readAt - RACY_MS) {
      if (this.paths.delete(path)) this.#changed = true;
      return;
    }
    this.paths.set(path, [st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev, sha256]);
    this.#changed = true;
  }

  hasBlob(sha256: string): boolean {
    return this.blobs.has(sha256);
  }

  addBlob(sha256: string, size: number): void {
    if (this.blobs.get(sha256) === size) return;
    this.blobs.set(sha256, size);
    this.#changed = true;
  }

  /** Blobs that garbage collection deleted. */
  dropBlobs(shas: Iterable<string>): void {
    for (const sha of shas) if (this.blobs.delete(sha)) this.#changed = true;
    for (const [path, e] of this.paths) if (!this.blobs.has(e[5])) this.paths.delete(path);
  }

  /** Every stored blob with its size. */
  storedBlobs(): ReadonlyMap<string, number> {
    return this.blobs;
  }

  totalBytes(): number {
    let n = 0;
    for (const size of this.blobs.values()) n += size;
    return n;
  }

  /** Writes the index when it changed. A failure to write costs the next point its shortcut only. */
  async save(): Promise<void> {
    if (!this.#changed) return;
    const out: IndexFile = {
      version: 1,
      paths: Object.fromEntries(this.paths),
      blobs: Object.fromEntries(this.blobs),
    };
    try {
      await writeFileAtomic(this.file, JSON.stringify(out), { mode: 0o600 });
      this.#changed = false;
    } catch {
      // A full disk: the point itself was written; the next one reads every file again.
    }
  }
}

/** The SHA-256 names of the blobs in `dir` (`ab/cdef…`), by listing directories only. */
async function blobNames(dir: string): Promise<string[]> {
  let prefixes: string[];
  try {
    prefixes = await readdir(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const p of prefixes) {
    if (!/^[0-9a-f]{2}$/.test(p)) continue;
    for (const rest of await readdir(join(dir, p))) if (SHA256_HEX.test(p + rest)) out.push(p + rest);
  }
  return out;
}
