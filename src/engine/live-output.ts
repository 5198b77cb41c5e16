/**
 * The output of runs in progress, kept in the daemon's memory so that a page can follow it live
 * and resume where it left off: each run's text is addressed by byte offset from its start (the
 * dashboard's server-sent events carry the offset as their id, and a reconnecting browser sends
 * it back as Last-Event-ID). A run's buffer is capped; the bytes before the cap are dropped and
 * a reader that asks for them gets what is kept, with `from` saying where it starts.
 */

/** The most output kept per running run. */
export const LIVE_OUTPUT_BYTES = 256 * 1024;
/** How long a finished run's buffer stays for a reader that reconnects late. */
const KEEP_FINISHED = 20;

export interface OutputChunk {
  /** Byte offset of `text` from the start of the run's output. */
  readonly from: number;
  /** Byte offset just after `text`. */
  readonly to: number;
  readonly text: string;
}

export type OutputEvent = { readonly kind: 'output'; readonly chunk: OutputChunk } | { readonly kind: 'end' };

interface Buffered {
  /** Offset of chunks[0]. */
  start: number;
  end: number;
  chunks: Buffer[];
  finished: boolean;
  readonly listeners: Set<(e: OutputEvent) => void>;
}

export class LiveOutput {
  readonly #runs = new Map<number, Buffered>();
  readonly #finished: number[] = [];

  #of(runId: number): Buffered {
    let b = this.#runs.get(runId);
    if (!b) {
      b = { start: 0, end: 0, chunks: [], finished: false, listeners: new Set() };
      this.#runs.set(runId, b);
    }
    return b;
  }

  /** A run started: it has output to follow from now on (none yet). */
  started(runId: number): void {
    this.#of(runId);
  }

  write(runId: number, text: string): void {
    if (text === '') return;
    const b = this.#of(runId);
    const buf = Buffer.from(text, 'utf8');
    const chunk = { from: b.end, to: b.end + buf.length, text };
    b.chunks.push(buf);
    b.end += buf.length;
    while (b.end - b.start > LIVE_OUTPUT_BYTES && b.chunks.length > 1) b.start += b.chunks.shift()!.length;
    for (const l of b.listeners) l({ kind: 'output', chunk });
  }

  finished(runId: number): void {
    const b = this.#runs.get(runId);
    if (!b) return;
    b.finished = true;
    for (const l of b.listeners) l({ kind: 'end' });
    b.listeners.clear();
    this.#finished.push(runId);
    while (this.#finished.length > KEEP_FINISHED) this.#runs.delete(this.#finished.shift()!);
  }

  /**
   * What the run wrote from byte `offset` on, and whether it is over; `follow` then hears every
   * later chunk and the end. Null when this daemon knows nothing of the run (not running here).
   */
  follow(
    runId: number,
    offset: number,
    listener: (e: OutputEvent) => void,
  ): { readonly backlog: OutputChunk | null; readonly finished: boolean; readonly stop: () => void } | null {
    const b = this.#runs.get(runId);
    if (!b) return null;
    let backlog: OutputChunk | null = null;
    if (offset < b.end) {
      const all = Buffer.concat(b.chunks);
      const from = Math.max(offset, b.start);
      // An offset inside a multi-byte character starts at the next whole one.
      let i = from - b.start;
      while (i < all.length && (all[i]! & 0xc0) === 0x80) i++;
      backlog = { from: b.start + i, to: b.end, text: all.subarray(i).toString('utf8') };
    }
    if (b.finished) return { backlog, finished: true, stop: () => {} };
    b.listeners.add(listener);
    return { backlog, finished: false, stop: () => b.listeners.delete(listener) };
  }
}
