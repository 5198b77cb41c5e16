/**
 * The rotation journal: the plan, written durably before the first step, then one line per step
 * finished (fdatasync'd). After a crash the next run reads it and carries the plan to its end;
 * the journal is removed only when every step is done. The last line may be torn by a crash
 * and is then ignored: its step is simply replayed, which each step allows.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from '../../os/atomic-write.js';
import type { Plan } from './steps.js';

export const JOURNAL_FILE = 'rotation.journal';

export interface JournalState {
  readonly plan: Plan;
  readonly done: Set<number>;
  readonly skipped: Set<number>;
  /** Facts a step recorded half-way (e.g. "truncated", "compressed bytes"). */
  readonly marks: Map<number, Map<string, string>>;
}

export class Journal {
  private constructor(
    readonly path: string,
    readonly state: JournalState,
    private fh: FileHandle,
  ) {}

  /** Writes a new journal for `plan` (durably, before any step runs). */
  static async begin(dir: string, plan: Plan): Promise<Journal> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, JOURNAL_FILE);
    await writeFileAtomic(path, `${JSON.stringify(plan)}\n`, { mode: 0o600 });
    const fh = await open(path, constants.O_WRONLY | constants.O_APPEND);
    return new Journal(path, { plan, done: new Set(), skipped: new Set(), marks: new Map() }, fh);
  }

  /** The journal of an interrupted rotation, or undefined when the last one finished. */
  static async load(dir: string): Promise<JournalState | undefined> {
    let text: string;
    try {
      text = await readFile(join(dir, JOURNAL_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const lines = text.split('\n');
    let plan: Plan;
    try {
      plan = JSON.parse(lines[0]!) as Plan;
    } catch {
      // The plan is written atomically, so this is not a crash of ours: refuse to guess.
      throw new Error(`${join(dir, JOURNAL_FILE)} is unreadable; inspect it, then delete it to rotate again`);
    }
    const state: JournalState = { plan, done: new Set(), skipped: new Set(), marks: new Map() };
    for (const line of lines.slice(1)) {
      const [verb, idText, key, ...rest] = line.split(' ');
      const id = Number(idText);
      if (!Number.isInteger(id)) continue;
      if (verb === 'done') state.done.add(id);
      else if (verb === 'skip') state.skipped.add(id);
      else if (verb === 'mark' && key) {
        const m = state.marks.get(id) ?? new Map<string, string>();
        m.set(key, rest.join(' '));
        state.marks.set(id, m);
      }
    }
    return state;
  }

  /** Continues appending to an interrupted journal. */
  static async resume(dir: string, state: JournalState): Promise<Journal> {
    const path = join(dir, JOURNAL_FILE);
    const fh = await open(path, constants.O_WRONLY | constants.O_APPEND);
    // A torn last line would glue onto the next record: start on a fresh line.
    await fh.write('\n');
    return new Journal(path, state, fh);
  }

  #queue: { line: string; done: () => void; fail: (e: Error) => void }[] = [];
  #flushing = false;

  /**
   * Appends a line durably. Lines that arrive while a flush is under way (from steps of other
   * logs running at the same time) share the next write and fdatasync: group commit.
   */
  #append(line: string): Promise<void> {
    return new Promise((done, fail) => {
      this.#queue.push({ line, done, fail });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      try {
        await this.fh.write(batch.map((b) => `${b.line}\n`).join(''));
        await this.fh.datasync();
        for (const b of batch) b.done();
      } catch (err) {
        for (const b of batch) b.fail(err as Error);
      }
    }
    this.#flushing = false;
  }

  async done(id: number): Promise<void> {
    this.state.done.add(id);
    await this.#append(`done ${id}`);
  }

  async skip(id: number): Promise<void> {
    this.state.skipped.add(id);
    await this.#append(`skip ${id}`);
  }

  async mark(id: number, key: string, value: string): Promise<void> {
    const m = this.state.marks.get(id) ?? new Map<string, string>();
    m.set(key, value);
    this.state.marks.set(id, m);
    await this.#append(`mark ${id} ${key} ${value}`);
  }

  getMark(id: number, key: string): string | undefined {
    return this.state.marks.get(id)?.get(key);
  }

  /** Every step is done: the journal goes. */
  async finish(dir: string): Promise<void> {
    await this.fh.close();
    await rm(this.path, { force: true });
    await fsyncDir(dir);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
