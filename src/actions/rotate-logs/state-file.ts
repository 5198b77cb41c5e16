/**
 * When each log was last rotated, so that `frequency: daily` rotates once a day however often the
 * task runs (logrotate's state file). One JSON file in the task's state dir, replaced atomically.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../os/atomic-write.js';

export const STATE_FILE = 'rotate-state.json';

interface StateDoc {
  version: 1;
  /** Absolute log path -> epoch ms of its last rotation (or of when it was first seen). */
  logs: Record<string, number>;
  /** Rotated files whose compression was put off (a writer still had them): done next run. */
  pending?: string[];
}

export class RotationState {
  private constructor(
    private readonly dir: string,
    private readonly doc: StateDoc,
  ) {}

  static async load(dir: string): Promise<RotationState> {
    try {
      const doc = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as StateDoc;
      if (doc?.version === 1 && typeof doc.logs === 'object' && doc.logs !== null)
        return new RotationState(dir, doc);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    return new RotationState(dir, { version: 1, logs: {} });
  }

  lastRotated(log: string): number | undefined {
    const v = this.doc.logs[log];
    return typeof v === 'number' ? v : undefined;
  }

  set(log: string, at: number): void {
    this.doc.logs[log] = at;
  }

  pending(): ReadonlySet<string> {
    return new Set(this.doc.pending ?? []);
  }

  /** Records what a run compressed and what it had to leave for later. */
  settle(compressed: Iterable<string>, deferred: Iterable<string>): void {
    const set = new Set(this.doc.pending ?? []);
    for (const p of compressed) set.delete(p);
    for (const p of deferred) set.add(p);
    this.doc.pending = [...set].sort();
  }

  async save(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, STATE_FILE), `${JSON.stringify(this.doc, null, 2)}\n`, {
      mode: 0o600,
    });
  }
}
