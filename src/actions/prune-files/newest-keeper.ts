/**
 * `keep_newest: N` for one directory, decided while the directory streams past: a min-heap of
 * the N newest files seen so far. A file pushed out of the heap (or never newer than its
 * smallest) has N newer siblings, so it may be handed to the other rules at once; what is left
 * in the heap when the directory ends is the N newest, and is kept. Memory: N entries.
 */
import type { FileEntry } from './tree-walk.js';

export type TimeOf = (f: FileEntry) => number;

export class NewestKeeper {
  readonly #heap: FileEntry[] = [];

  constructor(
    readonly keep: number,
    readonly timeOf: TimeOf,
  ) {}

  /** Newer means a later time; equal times are ordered by name so the choice is repeatable. */
  #older(a: FileEntry, b: FileEntry): boolean {
    const ta = this.timeOf(a);
    const tb = this.timeOf(b);
    return ta < tb || (ta === tb && a.name < b.name);
  }

  /** Offers a file; returns a file now known not to be among the newest N, if any. */
  offer(f: FileEntry): FileEntry | undefined {
    if (this.keep === 0) return f;
    const h = this.#heap;
    if (h.length < this.keep) {
      h.push(f);
      this.#up(h.length - 1);
      return undefined;
    }
    const oldest = h[0]!;
    if (!this.#older(oldest, f)) return f;
    h[0] = f;
    this.#down(0);
    return oldest;
  }

  /** The newest N of the directory (empties the keeper for the next directory). */
  drain(): FileEntry[] {
    return this.#heap.splice(0);
  }

  #up(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#older(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#older(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#older(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
