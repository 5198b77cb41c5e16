/**
 * Synchronous or thread-pool file system calls, chosen by how long they take. On a fast
 * filesystem (page cache, tmpfs, an idle SSD) an lstat or unlink costs microseconds and the
 * promise and thread-pool round trip of the async API costs more than the call: a batch of
 * synchronous calls is several times cheaper in CPU (bench/prune). On a slow or busy disk a call
 * can wait milliseconds, and then only overlapping them (the async API runs up to four at once)
 * keeps the walk from crawling — while blocking the event loop that long would stall the daemon.
 * So batches start synchronous, and the walk switches to async calls for good once batches are
 * seen to wait.
 */
import { lstatSync, opendirSync, realpathSync, unlinkSync, type Dirent, type Stats } from 'node:fs';
import { lstat, opendir, realpath, unlink } from 'node:fs/promises';

/** Above this average per call, a batch counts as waiting on the disk. */
const SLOW_CALL_MS = 0.2;
/** Consecutive slow batches before switching to async calls. */
const SLOW_BATCHES = 2;

export class FsPace {
  #sync = true;
  #slow = 0;

  get mode(): 'sync' | 'async' {
    return this.#sync ? 'sync' : 'async';
  }

  #observe(ms: number, calls: number): void {
    if (ms / calls > SLOW_CALL_MS) {
      if (++this.#slow >= SLOW_BATCHES) this.#sync = false;
    } else this.#slow = 0;
  }

  /** A directory's entries, read a few hundred at a time (never the whole listing at once). */
  async *entries(path: string): AsyncGenerator<Dirent> {
    if (!this.#sync) {
      yield* await opendir(path, { bufferSize: 256 });
      return;
    }
    const dir = opendirSync(path, { bufferSize: 256 });
    try {
      for (let d = dir.readSync(); d !== null; d = dir.readSync()) yield d;
    } finally {
      dir.closeSync();
    }
  }

  /** lstat and realpath of one path (undefined when it is gone). */
  async lstatReal(path: string): Promise<{ st: Stats; real: string } | undefined> {
    try {
      if (this.#sync) return { st: lstatSync(path), real: realpathSync.native(path) };
      const [st, real] = await Promise.all([lstat(path), realpath(path)]);
      return { st, real };
    } catch {
      return undefined;
    }
  }

  /** lstat of each path; undefined where it failed (vanished meanwhile). */
  async lstatMany(paths: readonly string[]): Promise<(Stats | undefined)[]> {
    if (!this.#sync) return Promise.all(paths.map((p) => lstat(p).catch(() => undefined)));
    const t = performance.now();
    const out = paths.map((p) => {
      try {
        return lstatSync(p);
      } catch {
        return undefined;
      }
    });
    this.#observe(performance.now() - t, paths.length);
    return out;
  }

  /** unlink of each path; the error where it failed. */
  async unlinkMany(paths: readonly string[]): Promise<(NodeJS.ErrnoException | undefined)[]> {
    if (!this.#sync) {
      return Promise.all(
        paths.map((p) =>
          unlink(p).then(
            () => undefined,
            (err: NodeJS.ErrnoException) => err,
          ),
        ),
      );
    }
    const t = performance.now();
    const out = paths.map((p) => {
      try {
        unlinkSync(p);
        return undefined;
      } catch (err) {
        return err as NodeJS.ErrnoException;
      }
    });
    this.#observe(performance.now() - t, paths.length);
    return out;
  }
}
