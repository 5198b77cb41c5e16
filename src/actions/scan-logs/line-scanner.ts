/**
 * Counts matching lines in chunks of whole lines, the way `grep -c` does, without ever splitting
 * a chunk into lines. Per pattern, either:
 *
 * - literal plan: `Buffer.indexOf(literal)` (memchr speed) finds a candidate, the line around it is
 *   tested with the regex only when the literal alone does not decide, and the search resumes
 *   after that line; or
 * - regex plan (no usable literal: alternations such as `ERROR|FATAL`, case-insensitive patterns):
 *   the rewritten regex runs over the chunk as one latin1 string. V8's irregexp prefilters the
 *   alternatives itself (Boyer-Moore on their literals); measured faster here than one indexOf
 *   pass per alternative (bench/scan). After a match the search resumes at the next line.
 *
 * Line numbers (for samples) come from counting newlines once per chunk, and only when samples
 * are asked for. A sample keeps the match's offset until the chunk ends; only the last N per
 * pattern ever become strings.
 */
import type { PatternPlan } from './line-regex.js';
import { leadingTimestamp } from './log-timestamp.js';
import { NewlineCounter } from './newline-count.js';

/** The part of a plan the scanner needs (what is sent to worker threads). */
export type ScanPlan = Pick<PatternPlan, 'name' | 'source' | 'flags' | 'literal' | 'literalIsMatch'>;

export interface ScanSettings {
  /** Lines whose leading timestamp is before this are not counted. */
  readonly sinceMs?: number;
  /** Last N matching lines kept per pattern (0: none, and no line counting). */
  readonly sampleLines: number;
}

export interface Sample {
  readonly pattern: number;
  /** Stream offset of the line's first byte. */
  readonly offset: number;
  /** 1-based, counted from the start of this scanner's stream. */
  readonly line: number;
  readonly text: string;
}

export interface Tally {
  readonly counts: number[];
  /** Per pattern, oldest first. */
  readonly samples: Sample[][];
  /** Newlines seen (only counted when samples are wanted; else 0). */
  readonly lines: number;
  readonly bytes: number;
  /** Matching lines skipped as older than `since`. */
  readonly skippedOld: number;
}

const MAX_SAMPLE_CHARS = 1000;

/** Last N match positions of one pattern; materialised into samples at the end of each chunk. */
class Ring {
  readonly pos: Float64Array;
  readonly ends: Float64Array;
  readonly done: (Sample | undefined)[];
  head = 0;
  size = 0;

  constructor(readonly n: number) {
    this.pos = new Float64Array(n);
    this.ends = new Float64Array(n);
    this.done = new Array<Sample | undefined>(n).fill(undefined);
  }

  push(pos: number, end: number): void {
    this.pos[this.head] = pos;
    this.ends[this.head] = end;
    this.done[this.head] = undefined;
    this.head = (this.head + 1) % this.n;
    if (this.size < this.n) this.size++;
  }

  /** Slots oldest first. */
  slots(): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.size; k++) out.push((this.head - this.size + k + this.n) % this.n);
    return out;
  }
}

function lineStart(buf: Buffer, i: number): number {
  return i === 0 ? 0 : buf.lastIndexOf(10, i - 1) + 1;
}

export class LineScanner {
  readonly counts: number[];
  #lines = 0;
  #bytes = 0;
  #skippedOld = 0;
  readonly #rings: Ring[] | undefined;
  readonly #literals: (Buffer | undefined)[];
  readonly #chunkRegexes: (RegExp | undefined)[];
  readonly #lineRegexes: RegExp[];
  readonly #needsString: boolean;
  readonly #counter: NewlineCounter | undefined;
  #own: Buffer | undefined;

  constructor(
    readonly plans: readonly ScanPlan[],
    readonly settings: ScanSettings,
  ) {
    this.counts = plans.map(() => 0);
    this.#rings = settings.sampleLines > 0 ? plans.map(() => new Ring(settings.sampleLines)) : undefined;
    this.#literals = plans.map((p) =>
      p.literal !== undefined ? Buffer.from(p.literal, 'latin1') : undefined,
    );
    this.#chunkRegexes = plans.map((p) =>
      p.literal === undefined ? new RegExp(p.source, `g${p.flags}`) : undefined,
    );
    this.#lineRegexes = plans.map((p) => new RegExp(p.source, p.flags));
    this.#needsString = plans.some((p) => p.literal === undefined);
    this.#counter = settings.sampleLines > 0 ? new NewlineCounter() : undefined;
  }

  /**
   * A buffer of at least `size` bytes to read chunks into, keeping the first `keep` bytes of the
   * previous one. When lines are counted it lies in the counter's memory, so counting needs no copy.
   */
  buffer(size: number, keep = 0): Buffer {
    if (this.#counter) return this.#counter.buffer(size, keep);
    const b = Buffer.allocUnsafe(size);
    this.#own?.copy(b, 0, 0, keep);
    this.#own = b;
    return b;
  }

  /**
   * Scans `buf`, which holds whole lines: every line ends with `\n`, except that the last one may
   * lack it when the stream ends there (a complete, rotated file). `offset`: stream offset of buf[0].
   */
  scan(buf: Buffer, offset: number): void {
    if (buf.length === 0) return;
    const s = this.#needsString ? buf.toString('latin1') : undefined;
    for (let k = 0; k < this.plans.length; k++) {
      const lit = this.#literals[k];
      if (lit) this.#scanLiteral(k, lit, buf, offset);
      else this.#scanRegex(k, s!, buf, offset);
    }
    if (this.#rings) this.#finishChunk(buf, offset);
    this.#bytes += buf.length;
  }

  /** Counts the line [ls?, e) around match position i, unless `since` says it is too old. */
  #hit(k: number, buf: Buffer, offset: number, i: number, e: number): void {
    if (this.settings.sinceMs !== undefined) {
      const t = leadingTimestamp(buf, lineStart(buf, i), e);
      if (t !== undefined && t < this.settings.sinceMs) {
        this.#skippedOld++;
        return;
      }
    }
    this.counts[k]!++;
    this.#rings?.[k]!.push(offset + i, offset + e);
  }

  #scanLiteral(k: number, lit: Buffer, buf: Buffer, offset: number): void {
    const decides = this.plans[k]!.literalIsMatch;
    const re = this.#lineRegexes[k]!;
    const len = buf.length;
    let p = 0;
    for (;;) {
      const i = buf.indexOf(lit, p);
      if (i < 0) return;
      let e = buf.indexOf(10, i + lit.length);
      if (e < 0) e = len;
      if (decides || re.test(buf.toString('latin1', lineStart(buf, i), e))) this.#hit(k, buf, offset, i, e);
      p = e + 1;
      if (p >= len) return;
    }
  }

  #scanRegex(k: number, s: string, buf: Buffer, offset: number): void {
    const re = this.#chunkRegexes[k]!;
    const len = s.length;
    // Position `len` starts no line when the chunk ends with a newline.
    const endIsLine = s.charCodeAt(len - 1) !== 10;
    re.lastIndex = 0;
    // `test` allocates no match array. The match's end (lastIndex) is inside the matched line, as
    // the rewritten regex cannot match a newline; so is a zero-length match's position.
    while (re.test(s)) {
      const q = re.lastIndex;
      if (q === len && !endIsLine) return;
      let e = s.indexOf('\n', q);
      if (e < 0) e = len;
      this.#hit(k, buf, offset, q, e);
      if (e + 1 >= len) return;
      re.lastIndex = e + 1;
    }
  }

  /** Gives this chunk's surviving samples their line numbers and text; counts the chunk's lines. */
  #finishChunk(buf: Buffer, offset: number): void {
    const fresh: { k: number; slot: number; i: number; e: number }[] = [];
    this.#rings!.forEach((ring, k) => {
      for (const slot of ring.slots()) {
        if (ring.done[slot] === undefined)
          fresh.push({ k, slot, i: ring.pos[slot]! - offset, e: ring.ends[slot]! - offset });
      }
    });
    fresh.sort((a, b) => a.i - b.i);
    const counter = this.#counter!;
    let lines = this.#lines;
    let p = 0;
    for (const f of fresh) {
      lines += counter.count(buf, p, f.i);
      p = f.i;
      const ls = lineStart(buf, f.i);
      let text = buf.toString('utf8', ls, f.e);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.length > MAX_SAMPLE_CHARS) text = `${text.slice(0, MAX_SAMPLE_CHARS)}…`;
      this.#rings![f.k]!.done[f.slot] = { pattern: f.k, offset: offset + ls, line: lines + 1, text };
    }
    this.#lines = lines + counter.count(buf, p, buf.length);
  }

  tally(): Tally {
    return {
      counts: [...this.counts],
      samples: this.#rings
        ? this.#rings.map((r) =>
            r
              .slots()
              .map((slot) => r.done[slot])
              .filter((x): x is Sample => x !== undefined),
          )
        : this.plans.map(() => []),
      lines: this.#lines,
      bytes: this.#bytes,
      skippedOld: this.#skippedOld,
    };
  }
}
