/**
 * Compresses one open file into ONE gzip member, its blocks deflated in parallel by the pool
 * (pigz's layout: raw deflate blocks chained by 32 KB dictionaries, sync-flushed between blocks,
 * one header and one trailer). `gzip -d` reads it like any other .gz file.
 */
import { constants as fsConstants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32Combine } from './crc32-combine.js';
import type { BlockResult, GzipPool } from './gzip-pool.js';

/** 1 MiB blocks: large enough that per-job overhead vanishes, small enough to spread one file. */
export const BLOCK_SIZE = 1 << 20;
const DICT_SIZE = 32 * 1024;

export interface GzipFileOptions {
  readonly level: number;
  readonly signal?: AbortSignal;
  /** Called with the input bytes consumed so far. */
  readonly onProgress?: (bytesIn: number) => void;
  readonly blockSize?: number;
}

export interface GzipFileResult {
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Source size when compression ended; differs from bytesIn when a writer was still at it. */
  readonly sizeAfter: number;
}

function header(mtimeSec: number, level: number): Buffer {
  const h = Buffer.alloc(10);
  h[0] = 0x1f;
  h[1] = 0x8b;
  h[2] = 8; // deflate
  h[3] = 0; // no name, no comment: like gzip reading stdin, which is how logrotate runs it
  h.writeUInt32LE(mtimeSec >>> 0, 4);
  h[8] = level >= 9 ? 2 : level <= 1 ? 4 : 0;
  h[9] = 3; // Unix
  return h;
}

/** A standalone gzip member for a small buffer (used to append a late tail). */
export function trailerFor(crc: number, length: number): Buffer {
  const t = Buffer.alloc(8);
  t.writeUInt32LE(crc >>> 0, 0);
  t.writeUInt32LE(length % 2 ** 32, 4);
  return t;
}

async function readFull(fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * Writes `dst` (created exclusively: a planted file or link there makes this fail, never follow)
 * from `src`, fsyncs it, and checks the header and trailer read back from disk. The caller renames
 * it into place and deletes the source.
 */
export async function gzipFile(
  pool: GzipPool,
  src: FileHandle,
  dst: string,
  opts: GzipFileOptions,
): Promise<GzipFileResult> {
  const st = await src.stat();
  const blockSize = opts.blockSize ?? BLOCK_SIZE;
  const out = await open(
    dst,
    fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
    0o600,
  );
  try {
    const head = header(Math.floor(st.mtimeMs / 1000), opts.level);
    await out.write(head);
    let bytesOut = head.length;
    let position = 0;
    let crc = 0;
    let dict: Uint8Array | undefined;
    // Reading and writing run side by side, so that the workers never wait for the disk: up to
    // `window` blocks are read ahead while finished blocks are written out in order.
    const window = Math.max(4, pool.threads * 4);
    const inflight: { len: number; done: Promise<BlockResult> }[] = [];
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const waitForChange = () => new Promise<void>((r) => (wake = r));
    let readerDone = false;
    let writerFailed: unknown;

    const writer = (async () => {
      for (;;) {
        const next = inflight[0];
        if (!next) {
          if (readerDone) return;
          await waitForChange();
          continue;
        }
        const r = await next.done;
        inflight.shift();
        notify(); // a slot is free for the reader
        crc = crc32Combine(crc, r.crc, next.len);
        await out.write(r.out);
        bytesOut += r.out.length;
      }
    })();
    // A failed block or write stops the reader too (it would otherwise wait for a free slot).
    writer.catch((err: unknown) => {
      writerFailed = err ?? new Error('compression failed');
      notify();
    });

    try {
      for (;;) {
        opts.signal?.throwIfAborted();
        while (inflight.length >= window && writerFailed === undefined) await waitForChange();
        if (writerFailed !== undefined) throw writerFailed;
        const buf = Buffer.allocUnsafeSlow(blockSize);
        const n = await readFull(src, buf, position);
        const data = n === blockSize ? buf : buf.subarray(0, n);
        const last = n === 0;
        // Copied before the block is handed over: the pool transfers (detaches) its buffer.
        const nextDict = last ? undefined : Uint8Array.prototype.slice.call(data, Math.max(0, n - DICT_SIZE));
        // An empty final block closes the stream: we only learn a block was the last one at EOF.
        const done = pool.deflate({ data, dict, last, level: opts.level });
        done.catch(() => {}); // if we stop early (abort), a later failure of this block is nobody's
        inflight.push({ len: n, done });
        notify();
        if (last) break;
        dict = nextDict;
        position += n;
        opts.onProgress?.(position);
      }
    } finally {
      readerDone = true;
      notify();
    }
    await writer;
    const trailer = trailerFor(crc, position);
    await out.write(trailer);
    bytesOut += trailer.length;
    await out.utimes(st.atime, st.mtime);
    await out.chmod(st.mode & 0o7777);
    await out.chown(st.uid, st.gid).catch(() => {}); // only root may give a file away
    await out.sync();

    // What is on disk must be what we wrote: size, magic, and the trailer's CRC and length.
    const written = await out.stat();
    const check = Buffer.alloc(8);
    await out.read(check, 0, 8, written.size - 8);
    const magic = Buffer.alloc(2);
    await out.read(magic, 0, 2, 0);
    if (written.size !== bytesOut || !check.equals(trailer) || magic[0] !== 0x1f || magic[1] !== 0x8b) {
      throw new Error(`${dst}: the compressed file on disk does not match what was written`);
    }
    const after = await src.stat();
    return { bytesIn: position, bytesOut, sizeAfter: after.size };
  } finally {
    await out.close();
  }
}
