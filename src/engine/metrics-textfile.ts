/**
 * `metrics: { textfile: PATH }`: the same text as GET /metrics, written after each run finishes
 * (and once at start), for node_exporter's textfile collector on hosts nobody scrapes. Atomic:
 * a hidden temp file in the same directory (not `*.prom`, so the collector never reads half a
 * file), fsynced, renamed. Runs finishing while a write is going make one more write after it,
 * not one each; a failed write is logged and the next run tries again.
 */
import type { Logger } from 'pino';
import { writeFileAtomic } from '../os/atomic-write.js';

export class MetricsTextfile {
  readonly #text: () => Promise<string>;
  readonly #path: () => string | null;
  readonly #logger: Logger;
  #writing: Promise<void> | null = null;
  #again = false;
  #failing = false;

  /** `path` is asked at each write (a reload may change or remove it). */
  constructor(o: { text: () => Promise<string>; path: () => string | null; logger: Logger }) {
    this.#text = o.text;
    this.#path = o.path;
    this.#logger = o.logger;
  }

  /** Asks for a write; resolves when the file holds metrics at least as new as this call. */
  update(): Promise<void> {
    if (this.#writing) {
      this.#again = true;
      return this.#writing;
    }
    this.#writing = this.#loop().finally(() => {
      this.#writing = null;
    });
    return this.#writing;
  }

  /** Waits for the write in flight, if any. */
  async idle(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      const path = this.#path();
      if (path === null) return;
      try {
        await writeFileAtomic(path, await this.#text());
        if (this.#failing) this.#logger.info({ path }, 'metrics textfile written again');
        this.#failing = false;
      } catch (err) {
        // Once per outage, not once per run.
        if (!this.#failing) this.#logger.error({ err, path }, `could not write the metrics textfile ${path}`);
        this.#failing = true;
      }
    } while (this.#again);
  }
}
