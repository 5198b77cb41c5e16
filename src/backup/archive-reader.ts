/**
 * Streams an archive file through SHA-256 (of the bytes as stored, for the sidecar check),
 * gunzip (when it is gzip) and the tar parser. Inflating runs in the libuv thread pool while the
 * main thread hashes and handles entries, so reading costs about what `gzip -d` alone costs.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { TarFormatError, TarParser, type TarVisitor } from './tar-parser.js';

export interface ReadOptions {
  readonly signal?: AbortSignal;
  /** Compressed bytes read so far, and the file size. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ReadResult {
  /** SHA-256 of the archive file as stored. */
  readonly sha256: string;
  readonly size: number;
  readonly compressed: boolean;
  readonly entries: number;
}

/** The archive could not be read to its end; `entry` is where it broke, when known. */
export class ArchiveReadError extends Error {
  override name = 'ArchiveReadError';
  constructor(
    message: string,
    readonly entry: string | undefined,
  ) {
    super(message);
  }
}

const READ_SIZE = 1024 * 1024;

/** The next chunk of an archive's bytes as stored, or undefined at its end. */
type NextChunk = () => Buffer | undefined | Promise<Buffer | undefined>;

export async function readArchive(
  path: string,
  visitor: TarVisitor,
  opts: ReadOptions = {},
): Promise<ReadResult> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let pos = 0;
    const next = (): Buffer | undefined => {
      const buf = Buffer.allocUnsafe(READ_SIZE);
      const n = readSync(fd, buf, 0, READ_SIZE, pos);
      if (n === 0) return undefined;
      pos += n;
      return buf.subarray(0, n);
    };
    return await readChunks(next, size, visitor, opts);
  } finally {
    closeSync(fd);
  }
}

/**
 * The same, from a stream of the archive's bytes (a copy as it downloads, decrypted on the way):
 * no file is written. `size` is what progress counts against.
 */
export async function readArchiveStream(
  source: AsyncIterable<Buffer>,
  size: number,
  visitor: TarVisitor,
  opts: ReadOptions = {},
): Promise<ReadResult> {
  const it = source[Symbol.asyncIterator]();
  const next = async (): Promise<Buffer | undefined> => {
    const r = await it.next();
    return r.done ? undefined : r.value;
  };
  try {
    return await readChunks(next, size, visitor, opts);
  } finally {
    await it.return?.();
  }
}

async function readChunks(
  source: NextChunk,
  size: number,
  visitor: TarVisitor,
  opts: ReadOptions,
): Promise<ReadResult> {
  const parser = new TarParser(visitor);
  const hash = createHash('sha256');
  let pos = 0;
  let lastYield = performance.now();
  const next = async (): Promise<Buffer | undefined> => {
    opts.signal?.throwIfAborted();
    const chunk = await source();
    if (chunk === undefined) return undefined;
    pos += chunk.length;
    hash.update(chunk);
    opts.onProgress?.(pos, size);
    return chunk;
  };
  let first = await next();
  // gzip's magic in the first two bytes (a stream's first chunk may be shorter: read on).
  while (first !== undefined && first.length < 2) {
    const more = await next();
    if (more === undefined) break;
    first = Buffer.concat([first, more]);
  }
  const compressed = first !== undefined && first[0] === 0x1f && first[1] === 0x8b;
  let pending: Buffer | undefined = first;
  const chunks = (): Buffer | undefined | Promise<Buffer | undefined> => {
    if (pending === undefined) return next();
    const c = pending;
    pending = undefined;
    return c;
  };
  try {
    if (compressed) await inflateInto(parser, chunks);
    else {
      for (let chunk = await chunks(); chunk; chunk = await chunks()) {
        parser.push(chunk);
        if (performance.now() - lastYield > 20) {
          await new Promise((r) => setImmediate(r));
          lastYield = performance.now();
        }
      }
    }
    parser.finish();
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    const e = err as NodeJS.ErrnoException;
    if (err instanceof TarFormatError) throw new ArchiveReadError(e.message, parser.current);
    if (e.code?.startsWith('Z_'))
      throw new ArchiveReadError(
        `gzip data is corrupt (${e.message})${parser.current ? ` in or after ${parser.current}` : ''}`,
        parser.current,
      );
    throw err;
  }
  return { sha256: hash.digest('hex'), size: pos, compressed, entries: parser.entries };
}

const MAX_QUEUED = 8 * 1024 * 1024;

/**
 * gunzip in the thread pool, entries on the main thread, overlapping: the 'data' handler only
 * queues, so zlib starts the next chunk at once, and the queue is worked off right after. Data
 * inflated before a gzip error is still handed to the parser first, so the error names the entry
 * where the damage shows (an async iterator would drop it when the stream errors).
 */
async function inflateInto(parser: TarParser, next: NextChunk): Promise<void> {
  // zlib streams pass stream options on to Transform (the typings only list zlib's own).
  const gunzip = createGunzip({
    // Not larger: zlib hands over nothing of a call that ends in an error, and a smaller last
    // piece lets a damaged archive name the entry where the damage shows.
    chunkSize: 256 * 1024,
    writableHighWaterMark: 2 * READ_SIZE,
  } as ZlibOptions);
  const queue: Buffer[] = [];
  let queued = 0;
  let failure: unknown;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  gunzip.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued >= MAX_QUEUED) gunzip.pause();
    notify();
  });
  const stop = (err?: unknown) => {
    if (err !== undefined) failure ??= err;
    finished = true;
    notify();
  };
  gunzip.on('end', () => stop());
  gunzip.on('error', (err) => stop(err));
  gunzip.on('close', () => stop());

  const consume = async () => {
    for (;;) {
      while (queue.length > 0) {
        const chunk = queue.shift()!;
        queued -= chunk.length;
        parser.push(chunk);
        if (gunzip.isPaused() && queued < MAX_QUEUED / 2) gunzip.resume();
      }
      if (finished) {
        if (failure !== undefined) throw failure;
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  };
  const produce = async () => {
    for (let chunk = await next(); chunk && !finished; chunk = await next()) {
      if (gunzip.write(chunk)) continue;
      await new Promise<void>((r) => {
        const done = () => {
          gunzip.off('drain', done);
          gunzip.off('close', done);
          r();
        };
        gunzip.on('drain', done);
        gunzip.on('close', done);
      });
    }
    if (!finished) gunzip.end();
  };
  const consumed = consume();
  try {
    await Promise.all([consumed, produce()]);
  } catch (err) {
    gunzip.destroy();
    await consumed.catch(() => {});
    throw err;
  }
}
