/**
 * Builds a tar stream (ustar headers, pax extended headers for long or non-ASCII names, large
 * sizes and sub-second mtimes — encoded by the `tar` package) into large blocks handed to a
 * BlockSink. File data is read straight into the block being filled: no intermediate copies,
 * nothing bigger than one block in memory.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { Header, Pax, type HeaderData } from 'tar';
import type { BlockSink } from './gzip-blocks.js';
import { encodePlainUstar } from './ustar-header.js';

export const BLOCK_SIZE = 2 * 1024 * 1024;
const ZERO_BLOCK = Buffer.alloc(512);

export interface EntryHeader {
  /** Archive path, relative, `/`-separated; directories without the trailing slash. */
  readonly path: string;
  readonly type: 'File' | 'Directory' | 'SymbolicLink';
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly linkpath?: string;
}

const TYPEFLAG = { File: '0', Directory: '5', SymbolicLink: '2' } as const;

/** What `fileData` found while copying a file. */
export interface FileCopy {
  /** Bytes that really came from the file (less when it shrank; zeros fill the rest). */
  readonly got: number;
  /** The file had more bytes than its header promised (it grew while being read). */
  readonly grew: boolean;
  readonly sha256: string;
}

// One-shot SHA-256 of a buffer (Node 20.12+): no Hash object per small file.
const oneShot = (crypto as { hash?: (alg: string, data: Buffer, enc: 'hex') => string }).hash;

export class TarWriter {
  #block: Buffer;
  #pos = 0;
  /** Blocks the sink has finished with, reused instead of allocating (and page-faulting) new ones. */
  readonly #free: Buffer[] = [];
  readonly #scratch = Buffer.alloc(512);
  readonly #probe = Buffer.alloc(1);
  /** Bytes of tar stream produced so far (before compression). */
  written = 0;

  constructor(
    private readonly sink: BlockSink,
    private readonly blockSize = BLOCK_SIZE,
  ) {
    this.#block = Buffer.allocUnsafe(blockSize);
  }

  async header(e: EntryHeader): Promise<void> {
    const path = e.type === 'Directory' ? `${e.path}/` : e.path;
    const size = e.type === 'File' ? e.size : 0;
    const mode = e.mode & 0o7777;
    this.#scratch.fill(0);
    const plain = encodePlainUstar(this.#scratch, 0, {
      path,
      typeflag: TYPEFLAG[e.type],
      mode,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size,
      mtimeMs: e.mtimeMs,
      linkpath: e.linkpath ?? '',
    });
    if (!plain) {
      this.#scratch.fill(0);
      const data: HeaderData = {
        path,
        type: e.type,
        size,
        mode,
        mtime: new Date(e.mtimeMs),
        uid: e.uid,
        gid: e.gid,
        linkpath: e.linkpath,
      };
      if (new Header(data).encode(this.#scratch, 0)) await this.#put(new Pax(data).encode());
    }
    await this.#put(this.#scratch);
  }

  /**
   * Copies `size` bytes from `fd` into the stream (after `header`), hashing them, and pads to a
   * 512-byte boundary. A file that shrank while being read is padded with zeros so the stream
   * stays consistent with its header (the hash covers what the archive holds).
   */
  async fileData(fd: number, size: number, onBlock?: () => void): Promise<FileCopy> {
    // The common case: the whole file fits in the current block and comes in one read.
    if (oneShot && size > 0 && size <= this.blockSize - this.#pos) {
      const n = readSync(fd, this.#block, this.#pos, size, null);
      if (n === size) {
        const sha256 = oneShot('sha256', this.#block.subarray(this.#pos, this.#pos + size), 'hex');
        this.#pos += size;
        this.written += size;
        const grew = readSync(fd, this.#probe, 0, 1, null) > 0;
        await this.#pad(size);
        if (this.#pos === this.blockSize) await this.#flush();
        return { got: size, grew, sha256 };
      }
      // Shorter than announced: start over the slow way (re-read from the start).
      return this.#fileDataStreamed(fd, size, onBlock, 0);
    }
    return this.#fileDataStreamed(fd, size, onBlock, null);
  }

  async #fileDataStreamed(
    fd: number,
    size: number,
    onBlock: (() => void) | undefined,
    from: number | null,
  ): Promise<FileCopy> {
    const hash = createHash('sha256');
    let remaining = size;
    let got = 0;
    let eof = false;
    let position = from;
    while (remaining > 0) {
      const want = Math.min(this.blockSize - this.#pos, remaining);
      let n = eof ? 0 : readSync(fd, this.#block, this.#pos, want, position);
      if (position !== null) position += n;
      if (n === 0) {
        eof = true;
        this.#block.fill(0, this.#pos, this.#pos + want);
        n = want;
      } else got += n;
      hash.update(this.#block.subarray(this.#pos, this.#pos + n));
      this.#pos += n;
      remaining -= n;
      this.written += n;
      if (this.#pos === this.blockSize) {
        await this.#flush();
        onBlock?.();
      }
    }
    const grew = !eof && readSync(fd, this.#probe, 0, 1, position) > 0;
    await this.#pad(size);
    return { got, grew, sha256: hash.digest('hex') };
  }

  /** A whole in-memory file (the manifest) after its header. */
  async bufferData(data: Buffer): Promise<void> {
    await this.#put(data);
    await this.#pad(data.length);
  }

  /** The end-of-archive marker (two zero blocks); hands the last block to the sink and ends it. */
  async finish(): Promise<void> {
    await this.#put(ZERO_BLOCK);
    await this.#put(ZERO_BLOCK);
    await this.#flush();
    await this.sink.end();
  }

  async #pad(size: number): Promise<void> {
    const rest = size % 512;
    if (rest !== 0) await this.#put(ZERO_BLOCK.subarray(0, 512 - rest));
  }

  async #put(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(this.blockSize - this.#pos, data.length - off);
      data.copy(this.#block, this.#pos, off, off + n);
      this.#pos += n;
      off += n;
      this.written += n;
      if (this.#pos === this.blockSize) await this.#flush();
    }
  }

  async #flush(): Promise<void> {
    if (this.#pos === 0) return;
    const block = this.#block;
    const full = block.subarray(0, this.#pos);
    this.#block = this.#free.pop() ?? Buffer.allocUnsafe(this.blockSize);
    this.#pos = 0;
    await this.sink.write(full, () => this.#free.push(block));
  }
}
