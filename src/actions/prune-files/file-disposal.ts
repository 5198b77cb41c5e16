/**
 * What happens to a file the rules let go: deleted, moved into the dated archive, or — in a dry
 * run — written into the plan with its size. Removal goes by path, so each batch first checks
 * that its directory is still the one the walk listed (`sameDirectory`).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { formatSize } from '../../core/size.js';
import type { ArchiveMover } from './archive-move.js';
import type { FsPace } from '../../os/fs-pace.js';
import { sameDirectory, type DirVisit, type FileEntry } from './tree-walk.js';

export type Reason = 'age' | 'keep_newest' | 'size';

export interface Doomed {
  readonly entry: FileEntry;
  readonly reason: Reason;
}

export interface RootReport {
  readonly root: string;
  readonly patterns: readonly string[];
  /** Selected files (after paths, include and exclude). */
  filesSelected: number;
  bytesSelected: number;
  /** Deleted or archived (in a dry run: would be). */
  filesRemoved: number;
  bytesRemoved: number;
  /** Of those, removed to get under max_total_size. */
  filesEvicted: number;
  bytesEvicted: number;
  filesKept: number;
  bytesKept: number;
  /** Kept as one of a directory's newest `keep_newest`. */
  filesProtected: number;
  dirsRemoved: number;
  symlinksSkipped: number;
  errors: number;
}

export function newRootReport(root: string, patterns: readonly string[]): RootReport {
  return {
    root,
    patterns,
    filesSelected: 0,
    bytesSelected: 0,
    filesRemoved: 0,
    bytesRemoved: 0,
    filesEvicted: 0,
    bytesEvicted: 0,
    filesKept: 0,
    bytesKept: 0,
    filesProtected: 0,
    dirsRemoved: 0,
    symlinksSkipped: 0,
    errors: 0,
  };
}

const REASON: Record<Reason, string> = {
  age: 'older than the cut-off',
  keep_newest: 'beyond keep_newest',
  size: 'over max_total_size',
};

/**
 * The dry-run plan: the first `limit` steps go into the result (and so into history); when
 * there are more, every step is streamed to a file in the task's state dir instead of being held.
 */
export class PlanWriter {
  readonly steps: string[] = [];
  count = 0;
  #file: WriteStream | undefined;

  constructor(
    readonly limit: number,
    readonly fullPath: string,
  ) {}

  async add(step: string): Promise<void> {
    this.count++;
    if (this.count <= this.limit) {
      this.steps.push(step);
      return;
    }
    if (!this.#file) {
      await mkdir(dirname(this.fullPath), { recursive: true });
      this.#file = createWriteStream(this.fullPath);
      for (const s of this.steps) this.#file.write(`${s}\n`);
    }
    if (!this.#file.write(`${step}\n`)) await new Promise<void>((r) => this.#file!.once('drain', () => r()));
  }

  /** Closes the full list (if one was written); returns its path. */
  async finish(): Promise<string | undefined> {
    if (!this.#file) return undefined;
    const f = this.#file;
    await new Promise<void>((resolve, reject) =>
      f.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    return this.fullPath;
  }
}

export interface DisposalOptions {
  readonly mode: 'delete' | 'archive' | 'plan';
  readonly pace: FsPace;
  readonly plan: PlanWriter;
  /** Archive mode: the mover and the archive directory for a walked directory. */
  readonly mover?: ArchiveMover;
  readonly archiveDirFor?: (dir: DirVisit) => string;
  warn(message: string): void;
}

export class Disposal {
  constructor(readonly opts: DisposalOptions) {}

  async dispose(dir: DirVisit, doomed: readonly Doomed[], report: RootReport): Promise<void> {
    if (doomed.length === 0) return;
    const { mode } = this.opts;
    if (mode === 'plan') {
      for (const d of doomed) {
        const src = join(dir.path, d.entry.name);
        const what = `${formatSize(d.entry.size)}, modified ${new Date(d.entry.mtimeMs).toISOString()}, ${REASON[d.reason]}`;
        const step =
          this.opts.archiveDirFor !== undefined
            ? `archive ${src} -> ${join(this.opts.archiveDirFor(dir), d.entry.name)} (${what})`
            : `remove ${src} (${what})`;
        await this.opts.plan.add(step);
        count(report, d);
        dir.gone++;
      }
      return;
    }
    if (!(await sameDirectory(dir, this.opts.pace))) {
      this.opts.warn(`${dir.path}: replaced while being pruned (a link?); nothing in it was removed`);
      report.errors += doomed.length;
      return;
    }
    if (mode === 'archive') {
      const byName = new Map(doomed.map((d) => [d.entry.name, d]));
      const out = await this.opts.mover!.moveBatch(
        dir.path,
        this.opts.archiveDirFor!(dir),
        doomed.map((d) => d.entry),
      );
      for (const m of out.moved) count(report, byName.get(m.entry.name)!);
      dir.gone += out.moved.length;
      for (const f of out.failed) this.#failed(report, f.src, f.reason);
      return;
    }
    const paths = doomed.map((d) => join(dir.path, d.entry.name));
    const errors = await this.opts.pace.unlinkMany(paths);
    errors.forEach((err, i) => {
      if (!err) {
        count(report, doomed[i]!);
        dir.gone++;
      } else if (err.code !== 'ENOENT') this.#failed(report, paths[i]!, err.code ?? err.message);
    });
  }

  #failed(report: RootReport, path: string, reason: string): void {
    report.errors++;
    this.opts.warn(`${path}: not removed (${reason})`);
  }
}

function count(report: RootReport, d: Doomed): void {
  report.filesRemoved++;
  report.bytesRemoved += d.entry.size;
  report.filesKept--;
  report.bytesKept -= d.entry.size;
  if (d.reason === 'size') {
    report.filesEvicted++;
    report.bytesEvicted += d.entry.size;
  }
}
