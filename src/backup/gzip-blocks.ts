/**
 * Where the tar stream goes: straight to the archive file (`compression: none`), or through gzip.
 *
 * gzip is where a backup spends its time (a `tar czf` pipeline is bound by its one gzip process),
 * so the gzip sink compresses blocks in parallel the way pigz does: every block is deflated on
 * its own in the libuv thread pool, primed with the previous block's last 32 KiB as its
 * dictionary and ended with a sync flush, and the results are concatenated in order between one
 * gzip header and one trailer (CRC-32 and length of the whole input). The output is one ordinary
 * gzip stream that `gzip -t`, `tar xzf` and zlib read as usual; the price is a few bytes per
 * block of compression ratio.
 */
import { createHash, type Hash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { constants, crc32, deflateRaw, type ZlibOptions } from 'node:zlib';

/**
 * Receives the tar stream in blocks. The caller does not touch a block it handed over until the
 * sink calls `release` (then it may reuse the memory).
 */
export interface BlockSink {
  write(block: Buffer, release: () => void): Promise<void> | void;
  end(): Promise<void>;
}

/** Test-only fault injection: fail like a full disk once this many bytes are written. */
export interface WriteFaults {
  readonly failAfterBytes?: number;
}

/**
 * Where the sinks put the archive's bytes: the archive file (ArchiveFileOutput), or the copies it
 * streams to when there is no local `dest` (stream-archive.ts). A returned promise is
 * backpressure: the sink waits for it before it writes more. The buffer is the sink's again once
 * `write` returns (PlainSink reuses it): an output that keeps bytes for later copies them.
 */
export interface ArchiveOutput {
  write(buf: Buffer): void | Promise<void>;
}

/** The archive file itself: every byte written is counted and hashed (for the sidecar). */
export class ArchiveFileOutput implements ArchiveOutput {
  readonly #hash: Hash = createHash('sha256');
  #bytes = 0;

  constructor(
    private readonly fd: number,
    private readonly faults: WriteFaults = {},
  ) {}

  write(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) {
      const limit = this.faults.failAfterBytes;
      if (limit !== undefined && this.#bytes + (buf.length - off) > limit) {
        const err = new Error(
          'ENOSPC: no space left on device (injected fault), write',
        ) as NodeJS.ErrnoException;
        err.code = 'ENOSPC';
        throw err;
      }
      const n = writeSync(this.fd, buf, off, buf.length - off);
      this.#hash.update(buf.subarray(off, off + n));
      off += n;
      this.#bytes += n;
    }
  }

  get bytes(): number {
    return this.#bytes;
  }

  digest(): string {
    return this.#hash.digest('hex');
  }
}

export class PlainSink implements BlockSink {
  constructor(private readonly out: ArchiveOutput) {}
  write(block: Buffer, release: () => void): Promise<void> | void {
    const wait = this.out.write(block);
    if (!wait) return release();
    return wait.then(release);
  }
  async end(): Promise<void> {}
}

const WINDOW = 32 * 1024;
const EMPTY = Buffer.alloc(0);
// gzip header: magic, deflate, no flags, no mtime (reproducible), no extra flags, OS = Unix.
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

function deflateBlock(block: Buffer, opts: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    deflateRaw(block, opts, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

export class ParallelGzipSink implements BlockSink {
  readonly #pending: Promise<Buffer>[] = [];
  #dictionary: Buffer = EMPTY;
  #crc = 0;
  #length = 0;

  /**
   * @param level gzip level 0-9
   * @param parallel blocks compressed at once (more than the cores available only queues work)
   */
  constructor(
    private readonly out: ArchiveOutput,
    private readonly level: number,
    private readonly parallel: number,
  ) {
    // An output that applies backpressure accepts the first bytes at once (stream-archive.ts).
    void out.write(GZIP_HEADER);
  }

  async write(block: Buffer, release: () => void): Promise<void> {
    this.#crc = crc32(block, this.#crc);
    this.#length = (this.#length + block.length) >>> 0; // ISIZE is the length modulo 2^32
    // An output buffer larger than the worst case (stored blocks) lets each block compress in one
    // thread-pool job; with zlib's default 16 KiB the pool thread returns to the main thread for
    // every 16 KiB of output and waits whenever the main thread is busy reading files.
    const opts: ZlibOptions = {
      level: this.level,
      finishFlush: constants.Z_SYNC_FLUSH,
      chunkSize: Math.max(64 * 1024, block.length + (block.length >> 8) + 1024),
    };
    if (this.#dictionary.length > 0) opts.dictionary = this.#dictionary;
    // A copy: the block goes back to the writer for reuse once it is compressed.
    this.#dictionary = Buffer.from(
      block.length >= WINDOW
        ? block.subarray(block.length - WINDOW)
        : Buffer.concat([this.#dictionary, block]).subarray(-WINDOW),
    );
    this.#enqueue(
      deflateBlock(block, opts).then((out) => {
        release();
        return out;
      }),
    );
    while (this.#pending.length > this.parallel) await this.out.write(await this.#pending.shift()!);
  }

  async end(): Promise<void> {
    // A final empty block with BFINAL set closes the deflate stream.
    this.#enqueue(deflateBlock(EMPTY, { level: this.level, finishFlush: constants.Z_FINISH }));
    while (this.#pending.length > 0) await this.out.write(await this.#pending.shift()!);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.#crc >>> 0, 0);
    trailer.writeUInt32LE(this.#length, 4);
    await this.out.write(trailer);
  }

  #enqueue(p: Promise<Buffer>): void {
    // Handled here so that a failure behind one we are awaiting is not an unhandled rejection;
    // the caller still sees it when it awaits that block.
    p.catch(() => {});
    this.#pending.push(p);
  }
}
