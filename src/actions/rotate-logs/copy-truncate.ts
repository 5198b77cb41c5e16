/**
 * copytruncate without logrotate's data-loss window (its issues #34 and #591): copy the log, copy
 * again whatever was appended meanwhile until the copy has caught up, and only then truncate —
 * the last read-to-EOF and the truncate run back to back, synchronously, and the gap between them
 * is measured and reported. Also finds NUL-filled holes: a writer that did not open its log with
 * O_APPEND keeps its old offset after a truncate and the file starts with zeros (logrotate #363).
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { pauseWriter } from './pause-writer.js';

const CHUNK = 1 << 20;
/** Catch-up passes before the final synchronous one; a writer outrunning the copy still ends. */
const MAX_PASSES = 20;
/** Below this many new bytes, the final pass (which blocks the event loop) is short. */
const SMALL_TAIL = 256 * 1024;

export interface NulReport {
  /** Offset of the first NUL byte. */
  readonly firstOffset: number;
  /** Length of the run of NULs starting there. */
  readonly firstRun: number;
  readonly total: number;
}

export interface CopyTruncateResult {
  readonly bytesCopied: number;
  readonly passes: number;
  /**
   * Microseconds between the start of the last read that found end-of-file and the end of the
   * truncate: a line appended inside this gap is lost (no userspace copy can close it) — unless
   * the writer was paused, which closes it.
   */
  readonly windowMicros: number;
  /** The writer was stopped around the truncate (the window could hold no write). */
  readonly paused: boolean;
  /** Why pausing the writer failed, when it was asked for. */
  readonly pauseError?: string;
  readonly nul: NulReport | undefined;
}

class NulScanner {
  firstOffset = -1;
  firstRun = 0;
  total = 0;
  #inFirst = false;

  scan(buf: Buffer, n: number, offset: number): void {
    let i = buf.indexOf(0);
    if (i < 0 || i >= n) {
      this.#inFirst = false;
      return;
    }
    // A chunk of only zeros is the common case for a hole: count it at once.
    let nonZero = -1;
    for (let j = 0; j < n; j++)
      if (buf[j] !== 0) {
        nonZero = j;
        break;
      }
    if (nonZero < 0) {
      if (this.firstOffset < 0) {
        this.firstOffset = offset;
        this.#inFirst = true;
      }
      if (this.#inFirst) this.firstRun += n;
      this.total += n;
      return;
    }
    for (; i >= 0 && i < n; i = buf.indexOf(0, i + 1)) {
      if (this.firstOffset < 0) {
        this.firstOffset = offset + i;
        this.#inFirst = true;
      }
      if (this.#inFirst && offset + i === this.firstOffset + this.firstRun) this.firstRun++;
      else this.#inFirst = false;
      this.total++;
    }
  }

  report(): NulReport | undefined {
    return this.total > 0
      ? { firstOffset: this.firstOffset, firstRun: this.firstRun, total: this.total }
      : undefined;
  }
}

function allZero(buf: Buffer, n: number): boolean {
  for (let j = 0; j < n; j++) if (buf[j] !== 0) return false;
  return true;
}

/** Appends src[from..EOF) to dst at the same offsets, leaving holes for all-zero chunks. */
async function copyRange(src: FileHandle, dst: FileHandle, from: number, nul: NulScanner): Promise<number> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = from;
  for (;;) {
    const { bytesRead } = await src.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) return pos;
    nul.scan(buf, bytesRead, pos);
    if (!allZero(buf, bytesRead)) await dst.write(buf, 0, bytesRead, pos);
    pos += bytesRead;
  }
}

export interface CopyTruncateOptions {
  /** Resume after a crash: `to` already holds this many bytes copied from the log. */
  readonly resumeFrom?: number;
  /** Called after the copy caught up and before the truncate (crash tests stop here). */
  readonly beforeTruncate?: () => Promise<void> | void;
  readonly signal?: AbortSignal;
  /** The writer's pid: stopped (SIGSTOP) for the final read and the truncate, then continued. */
  readonly pausePid?: number;
}

/**
 * The copy could not be made (a full disk, most often). Raised before the log was truncated, after
 * the partial copy was removed: the log is as it was. Keeps the system error's `code`.
 */
export class CopyFailedError extends Error {
  override name = 'CopyFailedError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Copies `log` into `tmp` (created, or continued when resuming), truncates `log`, fsyncs `tmp`.
 * The caller renames `tmp` to the rotated name.
 */
export async function copyTruncate(
  log: string,
  tmp: string,
  opts: CopyTruncateOptions = {},
): Promise<CopyTruncateResult> {
  const src = await open(log, constants.O_RDWR | constants.O_NOFOLLOW);
  const st = await src.stat();
  const resuming = opts.resumeFrom !== undefined;
  const dst = await open(
    tmp,
    resuming
      ? constants.O_RDWR | constants.O_NOFOLLOW
      : constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    st.mode & 0o7777,
  );
  const nul = new NulScanner();
  let copied = opts.resumeFrom ?? 0;
  let passes = 0;
  let windowMicros = 0;
  /** Once the log is truncated, the copy holds the only version of its lines: it must stay. */
  let truncated = false;
  try {
    await dst.chmod(st.mode & 0o7777);
    await dst.chown(st.uid, st.gid).catch(() => {}); // only root may give a file away
    for (;;) {
      opts.signal?.throwIfAborted();
      copied = await copyRange(src, dst, copied, nul);
      passes++;
      const now = (await src.stat()).size;
      if (now <= copied + SMALL_TAIL || passes >= MAX_PASSES) break;
    }
    await dst.truncate(copied); // a trailing hole must still count in the size
    await dst.sync(); // what we copied is durable before the log loses it
    await opts.beforeTruncate?.();

    // Final pass, synchronous so that nothing else runs between the last read and the truncate.
    const pause = opts.pausePid === undefined ? undefined : pauseWriter(opts.pausePid);
    const paused = pause !== undefined && 'resume' in pause ? pause : undefined;
    const buf = Buffer.allocUnsafe(CHUNK);
    const srcFd = src.fd;
    const dstFd = dst.fd;
    let t0 = process.hrtime.bigint();
    try {
      for (;;) {
        t0 = process.hrtime.bigint();
        const n = readSync(srcFd, buf, 0, CHUNK, copied);
        if (n === 0) break;
        nul.scan(buf, n, copied);
        writeSync(dstFd, buf, 0, n, copied);
        copied += n;
      }
      ftruncateSync(srcFd, 0);
      truncated = true;
    } finally {
      paused?.resume();
    }
    windowMicros = Number(process.hrtime.bigint() - t0) / 1000;
    await dst.sync();
    return {
      bytesCopied: copied,
      passes: passes + 1,
      windowMicros,
      nul: nul.report(),
      paused: paused !== undefined,
      pauseError: pause !== undefined && 'error' in pause ? pause.error : undefined,
    };
  } catch (err) {
    if (truncated) throw err;
    // A partial copy on a full disk keeps it full and makes the application's own writes fail:
    // remove it; the log still holds every line.
    await dst.close().catch(() => {});
    await rm(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOSPC' || e.code === 'EDQUOT'
        ? `no space left for the copy (${copied} of ${st.size} bytes copied)`
        : e.message;
    throw new CopyFailedError(
      `${log}: copytruncate could not copy it to ${tmp}: ${why}; the partial copy was removed and the log left as it was`,
      e.code,
    );
  } finally {
    await dst.close().catch(() => {}); // closed already when the copy failed
    await src.close();
  }
}

/**
 * After a crash in the middle of a copytruncate: was the log already truncated? It was not when
 * the log still begins with exactly the bytes copied so far (compared in full).
 */
export function logStillHoldsCopy(log: string, tmp: string): boolean {
  let a = -1;
  let b = -1;
  try {
    try {
      a = openSync(log, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // only the copy is left
      throw err;
    }
    b = openSync(tmp, constants.O_RDONLY | constants.O_NOFOLLOW);
    const copied = fstatSync(b).size;
    if (fstatSync(a).size < copied) return false;
    const x = Buffer.allocUnsafe(CHUNK);
    const y = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; pos < copied;) {
      const len = Math.min(CHUNK, copied - pos);
      const n1 = readSync(a, x, 0, len, pos);
      const n2 = readSync(b, y, 0, len, pos);
      if (n1 !== len || n2 !== len || !x.subarray(0, len).equals(y.subarray(0, len))) return false;
      pos += len;
    }
    return true;
  } finally {
    if (a >= 0) closeSync(a);
    if (b >= 0) closeSync(b);
  }
}

/** Leading NULs of a file (a hole left by a writer that kept its offset after a truncate). */
export async function leadingNulBytes(path: string): Promise<number> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return pos;
      for (let i = 0; i < bytesRead; i++) if (buf[i] !== 0) return pos + i;
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}
