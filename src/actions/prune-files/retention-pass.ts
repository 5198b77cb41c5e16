/**
 * The retention rules applied to the files of one walk, directory by directory.
 *
 * - `keep_newest: N` protects the N newest selected files of each directory from every rule;
 *   when it is the only rule given, everything else in the directory goes.
 * - `older_than`: a file whose time (mtime, or atime with `by: atime`) is before now − older_than goes.
 * - `max_total_size`: the first pass (`collect`) records what stays; if that is over budget, a
 *   second pass (`evict`) removes the oldest remaining files until it fits.
 */
import type { Disposal, Doomed, RootReport } from './file-disposal.js';
import { NewestKeeper, type TimeOf } from './newest-keeper.js';
import type { EvictionCutoff, SizeBudget } from './size-budget.js';
import type { DirVisit, FileEntry } from './tree-walk.js';

export interface RetentionRules {
  readonly timeOf: TimeOf;
  /** Files with a time before this go (older_than). */
  readonly cutoffMs: number | undefined;
  readonly keepNewest: number | undefined;
}

export type PassKind =
  { kind: 'collect'; budget: SizeBudget | undefined } | { kind: 'evict'; cut: EvictionCutoff };

export class RetentionPass {
  readonly #keeper: NewestKeeper | undefined;
  #needAtTime: number;

  constructor(
    readonly rules: RetentionRules,
    readonly pass: PassKind,
    readonly disposal: Disposal,
  ) {
    this.#keeper =
      rules.keepNewest !== undefined ? new NewestKeeper(rules.keepNewest, rules.timeOf) : undefined;
    this.#needAtTime = pass.kind === 'evict' ? pass.cut.needAtTime : 0;
  }

  /** Does the age rule (or keep_newest alone) remove this unprotected file? */
  #expired(f: FileEntry): Doomed['reason'] | undefined {
    if (this.rules.cutoffMs !== undefined)
      return this.rules.timeOf(f) < this.rules.cutoffMs ? 'age' : undefined;
    // keep_newest alone: everything but the newest N goes.
    if (this.pass.kind === 'collect' && this.pass.budget === undefined) return 'keep_newest';
    return undefined;
  }

  async onFiles(dir: DirVisit, files: readonly FileEntry[], report: RootReport): Promise<void> {
    const doomed: Doomed[] = [];
    for (const f of files) {
      if (this.pass.kind === 'collect') {
        report.filesSelected++;
        report.bytesSelected += f.size;
        report.filesKept++;
        report.bytesKept += f.size;
      }
      const free = this.#keeper ? this.#keeper.offer(f) : f;
      if (free) this.#decide(dir, free, doomed);
    }
    await this.disposal.dispose(dir, doomed, report);
  }

  /** The directory's files are all seen: what the keeper still holds is its newest N. */
  onDirFilesDone(report: RootReport): void {
    if (!this.#keeper) return;
    for (const f of this.#keeper.drain()) {
      if (this.pass.kind === 'collect') {
        report.filesProtected++;
        this.pass.budget?.addProtected(f.size);
      }
    }
  }

  #decide(dir: DirVisit, f: FileEntry, doomed: Doomed[]): void {
    const expired = this.#expired(f);
    if (this.pass.kind === 'collect') {
      if (expired) doomed.push({ entry: f, reason: expired });
      else this.pass.budget?.addEvictable(this.rules.timeOf(f), f.size);
      return;
    }
    // Evict pass: files the age rule takes were dealt with in the first pass (in a dry run they
    // are still here, and already in the plan).
    if (expired) {
      dir.gone++;
      return;
    }
    const t = this.rules.timeOf(f);
    const { time } = this.pass.cut;
    if (t < time) doomed.push({ entry: f, reason: 'size' });
    else if (t === time && this.#needAtTime > 0) {
      this.#needAtTime -= f.size;
      doomed.push({ entry: f, reason: 'size' });
    }
  }
}
