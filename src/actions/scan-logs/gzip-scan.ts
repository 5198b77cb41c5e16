/**
 * Scans a gzip-compressed rotated log. The first bytes of the decompressed text decide where to
 * start (the caller recognises a file it already read, in part, before it was compressed), so the
 * file is decompressed once, as a stream, and never held whole.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { LineScanner, type ScanPlan, type ScanSettings, type Tally } from './line-scanner.js';
import { CHUNK_BYTES } from './range-scan.js';

export interface GzipStart {
  /** Decompressed bytes already counted (a line boundary). */
  readonly skip: number;
}

export interface GzipScanResult {
  readonly tally: Tally;
  readonly start: GzipStart;
  /** Decompressed size. */
  readonly total: number;
}

/** Collects arbitrary chunks into whole lines for a LineScanner. */
class LineFeeder {
  #parts: Buffer[] = [];
  #pending = 0;
  constructor(
    readonly scanner: LineScanner,
    public offset: number,
  ) {}

  push(chunk: Buffer): void {
    this.#parts.push(chunk);
    this.#pending += chunk.length;
    if (this.#pending >= CHUNK_BYTES) this.#flush(false);
  }

  end(): void {
    this.#flush(true);
  }

  #flush(final: boolean): void {
    if (this.#pending === 0) return;
    const all = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#pending);
    const cut = final ? all.length : all.lastIndexOf(10) + 1;
    if (cut > 0) this.scanner.scan(all.subarray(0, cut), this.offset);
    this.offset += cut;
    const rest = all.subarray(cut);
    this.#parts = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.#pending = rest.length;
  }
}

export async function scanGzip(
  path: string,
  plans: readonly ScanPlan[],
  settings: ScanSettings,
  headBytes: number,
  decide: (head: Buffer) => GzipStart,
  signal: AbortSignal,
): Promise<GzipScanResult> {
  const stream = createReadStream(path).pipe(createGunzip());
  const onAbort = () => stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  const scanner = new LineScanner(plans, settings);
  let feeder: LineFeeder | undefined;
  let start: GzipStart = { skip: 0 };
  let head: Buffer[] = [];
  let headLen = 0;
  let pos = 0; // decompressed offset of the next chunk
  const feed = (chunk: Buffer, at: number) => {
    const from = Math.max(0, start.skip - at);
    if (from < chunk.length) feeder!.push(from === 0 ? chunk : chunk.subarray(from));
  };
  const begin = () => {
    const h = Buffer.concat(head, headLen);
    start = decide(h);
    feeder = new LineFeeder(scanner, start.skip);
    feed(h, 0);
    head = [];
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (feeder) feed(chunk, pos);
      else {
        head.push(chunk);
        headLen += chunk.length;
        if (headLen >= headBytes) begin();
      }
      pos += chunk.length;
    }
    if (!feeder) begin();
    feeder!.end();
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return { tally: scanner.tally(), start, total: pos };
}
