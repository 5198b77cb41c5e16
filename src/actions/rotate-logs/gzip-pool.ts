/**
 * A fixed set of worker threads that deflate blocks (see gzip-worker-source.ts). One pool serves a
 * whole run: blocks of several files and of one big file all queue here, so the machine's cores
 * are busy whichever shape the work has, and never more threads than asked for.
 */
import { Worker } from 'node:worker_threads';
import { GZIP_WORKER_SOURCE } from './gzip-worker-source.js';

export interface BlockJob {
  readonly data: Uint8Array;
  /** The previous block's last 32 KB (a copy), or undefined for the first block. */
  readonly dict: Uint8Array | undefined;
  readonly last: boolean;
  readonly level: number;
}

export interface BlockResult {
  readonly out: Uint8Array;
  readonly crc: number;
}

interface Pending {
  readonly id: number;
  readonly job: BlockJob;
  readonly resolve: (r: BlockResult) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  busy: Pending | undefined;
}

export class GzipPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #next = 1;
  #closed = false;
  #failure: Error | undefined;

  constructor(readonly threads: number) {
    for (let i = 0; i < threads; i++) this.#slots.push(this.#spawn());
  }

  #spawn(): Slot {
    const worker = new Worker(GZIP_WORKER_SOURCE, { eval: true });
    const slot: Slot = { worker, busy: undefined };
    worker.on('message', (msg: { id: number; out?: Uint8Array; crc?: number; error?: string }) => {
      const p = slot.busy;
      slot.busy = undefined;
      if (p && p.id === msg.id) {
        if (msg.error !== undefined) p.reject(new Error(msg.error));
        else p.resolve({ out: msg.out!, crc: msg.crc! });
      }
      this.#dispatch();
    });
    worker.on('error', (err) => this.#fail(err));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(new Error(`a compression worker exited with code ${code}`));
    });
    return slot;
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const s of this.#slots) {
      s.busy?.reject(err);
      s.busy = undefined;
    }
    for (const p of this.#queue.splice(0)) p.reject(err);
  }

  /** Deflates one block on the next free thread. */
  deflate(job: BlockJob): Promise<BlockResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error('the compression pool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#next++, job, resolve, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.busy || this.#queue.length === 0) continue;
      const p = this.#queue.shift()!;
      slot.busy = p;
      // The input block is transferred, not copied: the reader allocated it for this job alone.
      const data = p.job.data;
      const transfer =
        data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
          ? [data.buffer as ArrayBuffer]
          : [];
      slot.worker.postMessage(
        { id: p.id, data, dict: p.job.dict, last: p.job.last, level: p.job.level },
        transfer,
      );
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
