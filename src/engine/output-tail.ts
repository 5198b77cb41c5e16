/** Keeps the last N bytes of a run's output without holding all of it. */
export class OutputTail {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #dropped = 0;

  constructor(private readonly limit: number) {}

  write(text: string): void {
    if (this.limit <= 0 || text.length === 0) return;
    const buf = Buffer.from(text, 'utf8');
    this.#chunks.push(buf);
    this.#bytes += buf.length;
    if (this.#bytes > this.limit * 2) this.#trim();
  }

  #trim(): void {
    const all = Buffer.concat(this.#chunks);
    const keep = all.subarray(all.length - this.limit);
    this.#dropped += all.length - keep.length;
    this.#chunks = [Buffer.from(keep)];
    this.#bytes = keep.length;
  }

  /** The kept tail; notes how much was cut off before it. */
  toString(): string {
    if (this.#bytes > this.limit) this.#trim();
    // A cut may split a multi-byte character; drop the broken lead bytes.
    const text = Buffer.concat(this.#chunks)
      .toString('utf8')
      .replace(/^\uFFFD+/, '');
    return this.#dropped > 0 ? `[… ${this.#dropped} earlier bytes not kept]\n${text}` : text;
  }

  get isEmpty(): boolean {
    return this.#bytes === 0;
  }
}
