/** SHA-256 of a whole file, read in 1 MiB pieces. */
import * as crypto from 'node:crypto';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

export function sha256OfFile(path: string, signal?: AbortSignal): string {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      signal?.throwIfAborted();
      hash.update(buf.subarray(0, n));
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

// One-shot SHA-256 (Node 20.12+): no Hash object for the many entries that arrive in one piece.
const oneShot = (crypto as { hash?: (alg: string, data: Buffer, enc: 'hex') => string }).hash;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** SHA-256 of an entry's data as it streams past, knowing its size in advance. */
export class EntryHasher {
  #hash: Hash | undefined;
  #done: string | undefined;

  constructor(private readonly size: number) {}

  update(chunk: Buffer): void {
    if (!this.#hash && this.#done === undefined && oneShot && chunk.length === this.size) {
      this.#done = oneShot('sha256', chunk, 'hex');
      return;
    }
    this.#hash ??= createHash('sha256');
    this.#hash.update(chunk);
  }

  digest(): string {
    return this.#done ?? this.#hash?.digest('hex') ?? EMPTY_SHA256;
  }
}
