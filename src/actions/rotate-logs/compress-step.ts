/**
 * The compress step: `src` -> `dst` (gzip) through a hidden temp file, verified block by block,
 * fsync'd, renamed into place; only then is `src` deleted. If a writer still holds `src`, or it
 * grew while it was read, it is left uncompressed for the next run (nothing is lost); bytes that
 * arrive in the instant between the last check and the delete are appended to `dst` as a second
 * gzip member, read through the descriptor we still hold.
 */
import { constants } from 'node:fs';
import { lstat, open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { fsyncDir } from '../../os/atomic-write.js';
import { faultPoint } from '../../os/fault-point.js';
import { gzipFile } from './gzip-file.js';
import type { GzipPool } from './gzip-pool.js';
import { tempNameFor } from './naming.js';
import { writersOf } from './writers.js';

export interface CompressEnv {
  readonly pool: () => GzipPool;
  readonly level: number;
  readonly signal: AbortSignal;
  readonly releaseWaitMs: number;
  /** Date.now() when the files of this stage were moved: a /proc scan older than that is stale. */
  readonly movedAt: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly onProgress?: (label: string, done: number, total: number) => void;
  /** Records facts in the journal before the point of no return. */
  readonly mark: (key: string, value: string) => Promise<void>;
  readonly getMark: (key: string) => string | undefined;
}

export type CompressOutcome =
  | {
      readonly status: 'done';
      readonly bytesIn: number;
      readonly bytesOut: number;
      readonly lateBytes: number;
    }
  | { readonly status: 'deferred'; readonly why: string }
  | { readonly status: 'missing' };

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Appends src[from, to) to `dst` as one more gzip member (gzip -d reads members in sequence). */
async function appendMember(dst: string, src: FileHandle, from: number, to: number): Promise<void> {
  const out = await open(dst, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
  try {
    const input = src.createReadStream({ start: from, end: to - 1, autoClose: false });
    await pipeline(input, createGzip(), out.createWriteStream({ autoClose: false }));
    await out.sync();
  } finally {
    await out.close();
  }
}

/** Catches late bytes and deletes `src`: the common tail of a fresh run and of a replay. */
async function retireSource(src: string, fh: FileHandle, dst: string, bytesIn: number): Promise<number> {
  let covered = bytesIn;
  const before = (await fh.stat()).size;
  if (before > covered) {
    await appendMember(dst, fh, covered, before);
    covered = before;
  }
  await unlink(src);
  await fsyncDir(dirname(src));
  // A writer that still had it open may have written between the stat and the unlink: those
  // bytes are only reachable through our descriptor now.
  const after = (await fh.stat()).size;
  if (after > covered) {
    await appendMember(dst, fh, covered, after);
    covered = after;
  }
  return covered - bytesIn;
}

export async function compressStep(
  step: { src: string; dst: string; waitRelease: boolean },
  env: CompressEnv,
  replaying: boolean,
): Promise<CompressOutcome> {
  const { src, dst } = step;
  const tmp = tempNameFor(dst);
  if (await exists(dst)) {
    if (!replaying) return { status: 'deferred', why: `${dst} already exists` };
    // Crashed after the rename: dst is complete (it was verified before). Finish the delete.
    if (!(await exists(src))) return { status: 'done', bytesIn: 0, bytesOut: 0, lateBytes: 0 };
    const bytes = Number(env.getMark('bytes'));
    if (!Number.isFinite(bytes))
      return { status: 'deferred', why: `${src} and ${dst} both exist; left as they are` };
    const fh = await open(src, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const late = await retireSource(src, fh, dst, bytes);
      return { status: 'done', bytesIn: bytes, bytesOut: (await lstat(dst)).size, lateBytes: late };
    } finally {
      await fh.close();
    }
  }
  await rm(tmp, { force: true }); // a half-written one from an interrupted run
  if (!(await exists(src))) return { status: 'missing' };

  if (step.waitRelease) {
    const deadline = env.now() + env.releaseWaitMs;
    let since = env.movedAt;
    for (;;) {
      const writers = await writersOf(src, since);
      if (writers.length === 0) break;
      if (env.now() >= deadline) {
        const who = writers.map((w) => `pid ${w.pid} (${w.command})`).join(', ');
        return {
          status: 'deferred',
          why: `${src} is still open for writing by ${who}; left uncompressed so that no line is lost (make the writer reopen its log: signal, postrotate, or use copytruncate)`,
        };
      }
      since = Date.now();
      await env.sleep(50);
    }
  }

  let fh: FileHandle;
  try {
    fh = await open(src, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      return { status: 'deferred', why: `${src} is a symbolic link: not followed, left alone` };
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { status: 'deferred', why: `${src} is not a regular file: left alone` };
    let r;
    try {
      r = await gzipFile(env.pool(), fh, tmp, {
        level: env.level,
        signal: env.signal,
        onProgress: (done) => env.onProgress?.(src, done, st.size),
      });
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    if (r.sizeAfter !== r.bytesIn) {
      await rm(tmp, { force: true });
      return {
        status: 'deferred',
        why: `${src} changed size while it was compressed (${r.bytesIn} -> ${r.sizeAfter} bytes): a writer still uses it; left uncompressed`,
      };
    }
    await env.mark('bytes', String(r.bytesIn));
    faultPoint('rotate:step', 'compressed, before rename');
    await rename(tmp, dst);
    await fsyncDir(dirname(dst));
    faultPoint('rotate:step', 'renamed, before deleting the source');
    const late = await retireSource(src, fh, dst, r.bytesIn);
    return { status: 'done', bytesIn: r.bytesIn, bytesOut: (await lstat(dst)).size, lateBytes: late };
  } finally {
    await fh.close();
  }
}
