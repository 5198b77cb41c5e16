/**
 * Moving a file into the archive without ever losing or overwriting one.
 *
 * Same filesystem: `link(src, dest)` then `unlink(src)`. Unlike `rename`, `link` fails when the
 * destination exists, so an archived file of the same name from earlier today is never replaced
 * (the newcomer gets `name.1`, `name.2`, …); at every instant the data has at least one name.
 * Across filesystems (EXDEV): copy into a temp file next to the destination, fsync it, check the
 * source did not change meanwhile, link the temp file to its final name, and only then unlink
 * the source. The archive directories are fsynced before any source is unlinked, so a power loss
 * leaves the file in the archive, or in place, or briefly in both — never in neither.
 */
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, rename, rm, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../../os/atomic-write.js';
import type { FileEntry } from './tree-walk.js';

/** File system calls the move uses; tests pass a variant to force the cross-filesystem path. */
export interface MoveFs {
  link(existing: string, newPath: string): Promise<void>;
}

const realFs: MoveFs = { link };

export interface MovedFile {
  readonly src: string;
  readonly dest: string;
  readonly entry: FileEntry;
}

export interface MoveOutcome {
  readonly moved: MovedFile[];
  readonly failed: { src: string; reason: string }[];
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** Candidate names for `name` in the archive: name, name.1, name.2, … */
function candidate(name: string, i: number): string {
  return i === 0 ? name : `${name}.${i}`;
}

export class ArchiveMover {
  readonly #made = new Set<string>();

  constructor(readonly fs: MoveFs = realFs) {}

  async #ensureDir(dir: string): Promise<void> {
    if (this.#made.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.#made.add(dir);
  }

  /**
   * Links every file of one source directory into `destDir`, fsyncs `destDir`, then unlinks
   * the sources. Returns what was moved and what was left in place (with why).
   */
  async moveBatch(srcDir: string, destDir: string, files: readonly FileEntry[]): Promise<MoveOutcome> {
    await this.#ensureDir(destDir);
    const linked: MovedFile[] = [];
    const failed: { src: string; reason: string }[] = [];
    await Promise.all(
      files.map(async (entry) => {
        const src = join(srcDir, entry.name);
        try {
          const dest = await this.#linkInto(src, destDir, entry);
          if (dest) linked.push({ src, dest, entry });
        } catch (err) {
          failed.push({ src, reason: code(err) ?? (err as Error).message });
        }
      }),
    );
    if (linked.length === 0) return { moved: [], failed };
    await fsyncDir(destDir);
    const moved: MovedFile[] = [];
    await Promise.all(
      linked.map(async (m) => {
        try {
          await unlink(m.src);
          moved.push(m);
        } catch (err) {
          // ENOENT: someone removed it meanwhile; the archived copy stands.
          if (code(err) === 'ENOENT') moved.push(m);
          else failed.push({ src: m.src, reason: `archived as ${m.dest} but not removed: ${code(err)}` });
        }
      }),
    );
    return { moved, failed };
  }

  /** Gives `src` a name in `destDir`; returns it, or undefined when `src` vanished. */
  async #linkInto(src: string, destDir: string, entry: FileEntry): Promise<string | undefined> {
    for (let i = 0; i < 10_000; i++) {
      const dest = join(destDir, candidate(entry.name, i));
      try {
        await this.fs.link(src, dest);
        return dest;
      } catch (err) {
        const c = code(err);
        if (c === 'ENOENT') return undefined;
        if (c === 'EEXIST') {
          // A run killed between link and unlink left this very file linked here already.
          const [a, b] = await Promise.all([lstat(src), lstat(dest)]).catch(() => [undefined, undefined]);
          if (a && b && a.ino === b.ino && a.dev === b.dev) return dest;
          continue;
        }
        if (c === 'EXDEV' || c === 'EPERM' || c === 'ENOTSUP' || c === 'EOPNOTSUPP' || c === 'EMLINK') {
          return this.#copyInto(src, destDir, entry);
        }
        throw err;
      }
    }
    throw new Error(`${destDir}: too many archived files named ${entry.name}`);
  }

  /** The cross-filesystem path: copy, fsync, verify the source is unchanged, link into place. */
  async #copyInto(src: string, destDir: string, entry: FileEntry): Promise<string | undefined> {
    const tmp = join(destDir, `.${entry.name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    try {
      await copyFile(src, tmp, constants.COPYFILE_EXCL);
    } catch (err) {
      if (code(err) === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      const now = await lstat(src).catch(() => undefined);
      if (!now) return undefined;
      if (now.size !== entry.size || now.mtimeMs !== entry.mtimeMs) {
        throw new Error('changed while being copied; left in place');
      }
      await utimes(tmp, now.atime, now.mtime);
      for (let i = 0; i < 10_000; i++) {
        const dest = join(destDir, candidate(entry.name, i));
        try {
          await link(tmp, dest);
          return dest;
        } catch (err) {
          const c = code(err);
          if (c === 'EEXIST') continue;
          if (c !== 'EPERM' && c !== 'ENOTSUP' && c !== 'EOPNOTSUPP') throw err;
          // A destination without hard links: rename, having checked the name is free (the
          // remaining race would need another writer in caretaker's own archive directory).
          const taken = await lstat(dest).then(
            () => true,
            () => false,
          );
          if (taken) continue;
          await rename(tmp, dest);
          return dest;
        }
      }
      throw new Error(`${destDir}: too many archived files named ${entry.name}`);
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
