/**
 * Content-addressed file copies for rollback points: a blob is named by the SHA-256 of its
 * content (`blobs/ab/cdef…`), so a file that did not change between two points is stored once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, copyFile, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir } from '../os/atomic-write.js';
import { makeDir } from '../os/make-dir.js';

const SMALL_FILE = 1 << 20;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** SHA-256 of a file's content, hex. Small files in one read, large ones streamed. */
export async function sha256File(path: string): Promise<string> {
  return (await readForBlob(path)).sha256;
}

/**
 * The hash of a file, the number of bytes hashed and, when it is small, its content (so storing
 * it needs no second read).
 */
async function readForBlob(path: string): Promise<{ sha256: string; size: number; content: Buffer | null }> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = await fh.stat();
    if (size <= SMALL_FILE) {
      const content = await fh.readFile();
      return { sha256: createHash('sha256').update(content).digest('hex'), size: content.length, content };
    }
  } finally {
    await fh.close();
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size, content: null };
}

export interface PutResult {
  readonly sha256: string;
  /** Bytes written now (0 when an identical blob was already stored). */
  readonly added: number;
  /** The blob's size. */
  readonly size: number;
  /** The new blob's path, to make durable with `flush` (null when nothing was written). */
  readonly written: string | null;
}

export class BlobStore {
  /** Prefix directories known to exist, to skip a mkdir per blob. */
  readonly #prefixes = new Set<string>();

  constructor(readonly dir: string) {}

  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a SHA-256 digest: ${sha256}`);
    return join(this.dir, sha256.slice(0, 2), sha256.slice(2));
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await stat(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  async #prefix(sha256: string): Promise<void> {
    const p = sha256.slice(0, 2);
    if (this.#prefixes.has(p)) return;
    await makeDir(join(this.dir, p), { mode: 0o700 });
    this.#prefixes.add(p);
  }

  /**
   * Stores a copy of `source`, named by the hash of exactly what was stored: a small file is
   * written from the bytes that were hashed; a large one is copied and the copy hashed, so a
   * file changing while it is read can never leave a blob whose name does not match its content.
   * Not yet durable: call `flush` with the written paths before relying on them.
   */
  async put(source: string, opts: { stored?: (sha256: string) => boolean } = {}): Promise<PutResult> {
    // `stored`: what the caller knows is in the store (under the rollback lock), instead of a stat.
    const has = (sha: string) => (opts.stored ? Promise.resolve(opts.stored(sha)) : this.has(sha));
    const read = await readForBlob(source);
    if (await has(read.sha256)) return { sha256: read.sha256, added: 0, size: read.size, written: null };
    const tmp = join(this.dir, `tmp-${randomBytes(8).toString('hex')}`);
    try {
      let sha256 = read.sha256;
      await makeDir(this.dir, { mode: 0o700 });
      if (read.content) {
        await writeFile(tmp, read.content, { flag: 'wx', mode: 0o400 });
      } else {
        await copyFile(source, tmp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
        await chmod(tmp, 0o400);
        sha256 = await sha256File(tmp);
        if (await has(sha256)) {
          const size = (await stat(tmp)).size;
          await unlink(tmp);
          return { sha256, added: 0, size, written: null };
        }
      }
      await this.#prefix(sha256);
      const final = this.pathOf(sha256);
      const size = read.content ? read.content.length : (await stat(tmp)).size;
      await rename(tmp, final).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        // Another process collected the (then empty) prefix directory since we made it.
        this.#prefixes.delete(sha256.slice(0, 2));
        await this.#prefix(sha256);
        await rename(tmp, final);
      });
      return { sha256, added: size, size, written: final };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Makes new blobs durable before a manifest refers to them. One `sync -f` (syncfs of the state
   * dir's filesystem) costs far less than an fsync per blob; where it is not available, each
   * blob and directory is fsynced.
   */
  async flush(written: readonly string[], sync: (dir: string) => Promise<boolean>): Promise<void> {
    if (written.length === 0) return;
    if (await sync(this.dir)) return;
    for (const path of written) {
      const fh = await open(path, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    for (const dir of new Set(written.map((w) => dirname(w)))) await fsyncDir(dir);
  }

  /** Does the stored blob still hash to its name? */
  async verify(sha256: string): Promise<'ok' | 'missing' | 'corrupt'> {
    try {
      return (await sha256File(this.pathOf(sha256))) === sha256 ? 'ok' : 'corrupt';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
  }

  /** Every stored blob with its size (leftover temp files of an interrupted put included as tmp). */
  async list(): Promise<{ sha256: string; size: number; path: string }[]> {
    const out: { sha256: string; size: number; path: string }[] = [];
    let prefixes: string[];
    try {
      prefixes = await readdir(this.dir);
    } catch {
      return out;
    }
    for (const p of prefixes) {
      if (!/^[0-9a-f]{2}$/.test(p)) continue;
      for (const rest of await readdir(join(this.dir, p))) {
        const path = join(this.dir, p, rest);
        const sha256 = p + rest;
        if (!SHA256_HEX.test(sha256)) continue;
        out.push({ sha256, size: (await stat(path)).size, path });
      }
    }
    return out;
  }

  /**
   * Deletes blobs not in `referenced` and temp files left by an interrupted put. `stored`: every
   * blob with its size when the caller knows them (see PointIndex), else each blob is stat'ed.
   */
  async collectGarbage(
    referenced: ReadonlySet<string>,
    stored?: ReadonlyMap<string, number>,
  ): Promise<{ deleted: number; bytesFreed: number; deletedShas: string[] }> {
    let deleted = 0;
    let bytesFreed = 0;
    const deletedShas: string[] = [];
    const blobs = stored
      ? [...stored].map(([sha256, size]) => ({ sha256, size, path: this.pathOf(sha256) }))
      : await this.list();
    for (const blob of blobs) {
      if (referenced.has(blob.sha256)) continue;
      await unlink(blob.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      deleted++;
      bytesFreed += blob.size;
      deletedShas.push(blob.sha256);
    }
    let entries: string[] = [];
    try {
      entries = await readdir(this.dir);
    } catch {
      // no blobs yet
    }
    for (const e of entries) {
      if (e.startsWith('tmp-')) await rm(join(this.dir, e), { force: true });
      else if (/^[0-9a-f]{2}$/.test(e) && (await readdir(join(this.dir, e))).length === 0) {
        await rm(join(this.dir, e), { recursive: true, force: true });
        this.#prefixes.delete(e);
      }
    }
    return { deleted, bytesFreed, deletedShas };
  }

  /** Are there temp files of an interrupted put? (One listing of the store's top directory.) */
  async hasLeftovers(): Promise<boolean> {
    try {
      return (await readdir(this.dir)).some((e) => e.startsWith('tmp-'));
    } catch {
      return false;
    }
  }

  /** Total bytes stored. */
  async totalBytes(): Promise<number> {
    return (await this.list()).reduce((n, b) => n + b.size, 0);
  }
}
