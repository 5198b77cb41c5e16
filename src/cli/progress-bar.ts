/** A one-line progress bar on stderr, only when it is a terminal. */
import type { Progress } from '../caretaker.js';
import { formatSize } from '../core/size.js';

export class ProgressBar {
  #last = 0;
  #shown = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  update(p: Progress): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.#last < 100 && p.done !== p.total) return;
    this.#last = now;
    const amount = (n: number) => (p.unit === 'bytes' ? formatSize(n) : String(n));
    const width = 30;
    let text: string;
    if (p.total) {
      const frac = Math.min(1, p.done / p.total);
      text = `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${(frac * 100).toFixed(0).padStart(3)}% ${amount(p.done)}/${amount(p.total)}`;
    } else text = `${amount(p.done)} ${p.unit}`;
    if (p.label) text += ` ${p.label}`;
    const cols = this.stream.columns ?? 100;
    this.stream.write(`\r${text.slice(0, cols - 1).padEnd(Math.min(cols - 1, 100))}`);
    this.#shown = true;
  }

  done(): void {
    if (this.#shown) this.stream.write('\r\x1b[K');
    this.#shown = false;
  }
}
