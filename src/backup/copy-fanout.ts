/**
 * One producer, N consumers: the bytes of an archive handed to every copy's upload as they are
 * written, when there is no local archive to upload from. Each copy reads from its own bounded
 * stream; a write waits until every copy still going has room again, so the slowest copy sets the
 * pace and memory stays at a few buffers per copy whatever the archive's size. A copy whose
 * upload fails is detached (its stream destroyed, its error kept) and the others go on; when none
 * is left the producer's next write throws.
 */
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';

/** Bytes buffered per copy before the producer waits for it. */
const BRANCH_BUFFER = 1024 * 1024;

/** Every copy has failed: there is nowhere left to write the archive. */
export class NoCopyLeftError extends Error {
  override name = 'NoCopyLeftError';
}

export class Branch {
  /** What the copy's upload reads. */
  readonly body = new PassThrough({ highWaterMark: BRANCH_BUFFER });
  /** Why this copy stopped receiving, once it has. */
  failure: unknown;
  /** Bytes handed to this copy. */
  bytes = 0;

  constructor() {
    // The upload reading `body` sees a destroy's error through its own read; this keeps the
    // stream's 'error' event from being unhandled when the upload has already stopped reading.
    this.body.on('error', () => undefined);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Detaches the copy: nothing more is written to it and its upload sees `err`. */
  fail(err: unknown): void {
    this.failure ??= err ?? new Error('failed');
    if (!this.body.destroyed) this.body.destroy(err instanceof Error ? err : undefined);
  }
}

export class FanOut {
  readonly branches: readonly Branch[];
  /** SHA-256 and size of what was handed out: the stored object of every copy that finished. */
  readonly #hash = createHash('sha256');
  #bytes = 0;

  constructor(count: number) {
    this.branches = Array.from({ length: count }, () => new Branch());
  }

  live(): Branch[] {
    return this.branches.filter((b) => !b.failed);
  }

  /** Hands `buf` to every copy still going; the promise is backpressure (it never rejects). */
  write(buf: Buffer): void | Promise<void> {
    const live = this.live();
    if (live.length === 0) throw new NoCopyLeftError('every copy failed');
    this.#hash.update(buf);
    this.#bytes += buf.length;
    let waits: Promise<void>[] | undefined;
    for (const b of live) {
      b.bytes += buf.length;
      if (!b.body.write(buf)) (waits ??= []).push(drained(b));
    }
    if (waits) return Promise.all(waits).then(() => undefined);
  }

  /** The archive is complete: each copy's stream ends once its upload has read everything. */
  end(): void {
    for (const b of this.live()) b.body.end();
  }

  /** The producer failed: every copy's upload is cut off (nothing of this archive may count). */
  destroy(err: unknown): void {
    for (const b of this.live()) b.fail(err);
  }

  get bytes(): number {
    return this.#bytes;
  }

  digest(): string {
    return this.#hash.copy().digest('hex');
  }
}

/** Resolves when the copy can take more, or when it is gone (a failed copy no longer holds us up). */
function drained(b: Branch): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      b.body.off('drain', done);
      b.body.off('close', done);
      resolve();
    };
    b.body.on('drain', done);
    b.body.on('close', done);
  });
}
