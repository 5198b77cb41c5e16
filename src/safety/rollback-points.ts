/**
 * The rollback points of one state dir: `rollback/points/rb-N.json` manifests over a shared,
 * content-addressed blob store. Every change (take, restore, delete, retention, garbage
 * collection) happens under one lock shared by all caretaker processes on the state dir, so a CLI
 * rollback and the daemon never step on each other and a blob is never collected while a point
 * that needs it is being written.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { formatSize } from '../core/size.js';
import { writeFileAtomic } from '../os/atomic-write.js';
import { BlobStore } from './blob-store.js';
import { ExclusiveLock } from './exclusive-lock.js';
import { captureGitState, dropStashRef, gitRoots, type GitRunner } from './git-state.js';
import type { PathGuard } from './path-guard.js';
import {
  pointNumber,
  summarize,
  type ManifestEntry,
  type PointKind,
  type PointManifest,
  type PointSummary,
} from './rollback-manifest.js';
import { capture } from './point-capture.js';
import { LastHolder, storeFingerprint } from './point-holder.js';
import { PointIndex } from './point-index.js';
import { RollbackError } from './rollback-error.js';
import { scanPatterns, toPatterns } from './tree-scan.js';
import { makeDir } from '../os/make-dir.js';

export { RollbackError };

export interface RollbackPointsOptions {
  readonly stateDir: string;
  readonly host: string;
  readonly clock: Clock;
  readonly guard: PathGuard;
  /** Most points kept; the oldest go first. @default 50 */
  readonly maxPoints: number;
  /** Most bytes of blobs kept in all. @default 1GB */
  readonly maxBytes: number;
  readonly killGraceMs?: number;
  /**
   * The wall clock that file times are compared with (the point index's racy rule). Not the
   * engine's clock, which tests move by hand; a test may set this one to read files "later".
   * @default Date.now
   */
  readonly fileTimeNow?: () => number;
}

export interface TakeInput {
  /** Files, directories and globs; relative ones resolve against `baseDir`. */
  readonly paths: readonly string[];
  readonly baseDir: string;
  readonly kind: PointKind;
  readonly task: string | null;
  readonly runId: number | null;
  readonly label: string;
  readonly before?: string | null;
  readonly signal?: AbortSignal;
}

export interface RetentionResult {
  readonly pointsDeleted: readonly string[];
  readonly blobsDeleted: number;
  readonly bytesFreed: number;
}

const NEVER = new AbortController().signal;
export class RollbackPoints {
  readonly dir: string;
  readonly blobs: BlobStore;
  readonly #pointsDir: string;
  readonly #lock: ExclusiveLock;

  #limits: { maxPoints: number; maxBytes: number };
  /** The point index, kept between holds while this instance held the lock last. */
  #index: PointIndex | null = null;
  readonly #holder: LastHolder;
  /** The store as this instance left it at the end of its last hold (see storeFingerprint). */
  #fingerprint: string | undefined;

  constructor(readonly opts: RollbackPointsOptions) {
    this.#limits = { maxPoints: opts.maxPoints, maxBytes: opts.maxBytes };
    this.dir = join(opts.stateDir, 'rollback');
    this.blobs = new BlobStore(join(this.dir, 'blobs'));
    this.#pointsDir = join(this.dir, 'points');
    this.#lock = new ExclusiveLock(join(this.dir, 'lock'));
    this.#holder = new LastHolder(join(this.dir, 'last-holder'));
  }

  /** New retention limits (a configuration reload). */
  setLimits(limits: { maxPoints: number; maxBytes: number }): void {
    this.#limits = { ...limits };
  }

  get guard(): PathGuard {
    return this.opts.guard;
  }

  /**
   * Runs `fn` holding the rollback lock (exported for restore, which must hold it too). The point
   * index is kept in memory between holds, but only used again when no other instance (in this
   * process or another) held the lock since (LastHolder); otherwise it is read afresh. It is
   * written when `fn` succeeded; after a failure it is dropped, the next hold rebuilds it.
   */
  locked<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#lock.run(
      async () => {
        // (The lock made the directory.) Both checks run, so that the token is always claimed.
        const mine = await this.#holder.heldLastByMe();
        if (!mine || this.#fingerprint !== this.#storeFingerprint()) this.#index = null;
        this.#fingerprint = undefined;
        try {
          const out = await fn();
          const index = this.#index as PointIndex | null;
          if (index) {
            await index.save();
            this.#fingerprint = this.#storeFingerprint();
          }
          return out;
        } catch (err) {
          this.#index = null;
          throw err;
        }
      },
      { signal, what: `the rollback points in ${this.dir}` },
    );
  }

  #storeFingerprint(): string {
    return storeFingerprint(join(this.dir, 'point-index.json'), this.blobs.dir);
  }

  /** The point index, for the current hold of the lock. */
  async #indexLocked(): Promise<PointIndex> {
    this.#index ??= await PointIndex.load(join(this.dir, 'point-index.json'), this.blobs.dir);
    return this.#index;
  }

  #captureOptions(signal?: AbortSignal) {
    return {
      signal,
      clock: this.opts.clock,
      killGraceMs: this.opts.killGraceMs ?? 10_000,
      fileTimeNow: this.opts.fileTimeNow ?? Date.now,
    };
  }

  gitRunner(signal?: AbortSignal): GitRunner {
    return { clock: this.opts.clock, signal: signal ?? NEVER, killGraceMs: this.opts.killGraceMs ?? 10_000 };
  }

  /** Takes a point now (retention applies afterwards; the new point is never the one dropped). */
  async take(input: TakeInput): Promise<{ manifest: PointManifest; retention: RetentionResult }> {
    return this.locked(async () => {
      const manifest = await this.takeLocked(input);
      const retention = await this.retainLocked(new Set([manifest.id]));
      return { manifest, retention };
    }, input.signal);
  }

  /** `take` for callers already holding the lock. */
  async takeLocked(input: TakeInput): Promise<PointManifest> {
    const patterns = await toPatterns(input.paths, input.baseDir, this.guard);
    const scanned = await scanPatterns(patterns, this.guard, input.signal);
    const files = [...scanned.values()].filter((s) => s.kind === 'file');
    const bytes = files.reduce((n, f) => n + (f.stats?.size ?? 0), 0);
    if (bytes > this.#limits.maxBytes) {
      throw new RollbackError(
        `a rollback point of ${input.paths.join(', ')} would hold ${formatSize(bytes)}, more than max_backup_size (${formatSize(this.#limits.maxBytes)}); narrow the paths or raise max_backup_size`,
      );
    }
    const id = await this.#nextId();
    const { entries, addedBytes } = await capture(
      this.blobs,
      [...scanned.values()],
      this.#captureOptions(input.signal),
      await this.#indexLocked(),
    );
    const runner = this.gitRunner(input.signal);
    const roots = await gitRoots(
      runner,
      patterns.map((p) => p.anchor),
    );
    const git = [];
    for (const root of roots) git.push(await captureGitState(runner, root, id));
    const manifest: PointManifest = {
      version: 1,
      id,
      kind: input.kind,
      task: input.task,
      runId: input.runId,
      host: this.opts.host,
      label: input.label,
      createdAt: this.opts.clock.now(),
      patterns,
      entries,
      git,
      files: entries.filter((e) => e.kind === 'file').length,
      bytes,
      addedBytes,
      before: input.before ?? null,
      restores: [],
    };
    await this.#write(manifest);
    return manifest;
  }

  /** Adds paths to an existing point (an action calling `ctx.snapshot` for more files). */
  async extend(
    id: string,
    paths: readonly string[],
    baseDir: string,
    signal?: AbortSignal,
  ): Promise<PointManifest> {
    return this.locked(async () => {
      const m = await this.get(id);
      const patterns = await toPatterns(paths, baseDir, this.guard);
      const scanned = await scanPatterns(patterns, this.guard, signal);
      const known = new Set(m.entries.map((e) => e.path));
      const fresh = [...scanned.values()].filter((s) => !known.has(s.path));
      const { entries, addedBytes: added } = await capture(
        this.blobs,
        fresh,
        this.#captureOptions(signal),
        await this.#indexLocked(),
      );
      const all = [...m.entries, ...entries];
      const files = all.filter((e): e is Extract<ManifestEntry, { kind: 'file' }> => e.kind === 'file');
      const next: PointManifest = {
        ...m,
        patterns: [
          ...m.patterns,
          ...patterns.filter((p) => !m.patterns.some((q) => q.pattern === p.pattern)),
        ],
        entries: all,
        files: files.length,
        bytes: files.reduce((n, f) => n + f.size, 0),
        addedBytes: m.addedBytes + added,
      };
      await this.#write(next);
      return next;
    }, signal);
  }

  async #nextId(): Promise<string> {
    const counter = join(this.dir, 'next-id');
    let n = 1;
    try {
      n = Number((await readFile(counter, 'utf8')).trim()) || 1;
    } catch {
      // first point
    }
    // Never reuse a number, even if the counter file was lost: start past every point on disk.
    for (const id of await this.#ids()) n = Math.max(n, pointNumber(id) + 1);
    await makeDir(this.dir, { mode: 0o700 });
    await writeFileAtomic(counter, `${n + 1}\n`, { mode: 0o600 });
    return `rb-${n}`;
  }

  async #ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.#pointsDir);
    } catch {
      return [];
    }
    return names
      .filter((n) => /^rb-\d+\.json$/.test(n))
      .map((n) => n.slice(0, -5))
      .sort((a, b) => pointNumber(a) - pointNumber(b));
  }

  #file(id: string): string {
    return join(this.#pointsDir, `${id}.json`);
  }

  async #write(m: PointManifest): Promise<void> {
    await makeDir(this.#pointsDir, { mode: 0o700 });
    await writeFileAtomic(this.#file(m.id), `${JSON.stringify(m)}\n`, { mode: 0o600 });
  }

  /** Records a restore made from point `id` (under the lock, by the restorer). */
  async recordRestoreLocked(id: string, record: PointManifest['restores'][number]): Promise<void> {
    const m = await this.get(id);
    await this.#write({ ...m, restores: [...m.restores, record] });
  }

  /** A point's manifest; throws RollbackError when it does not exist or cannot be read. */
  async get(id: string): Promise<PointManifest> {
    let text: string;
    try {
      text = await readFile(this.#file(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new RollbackError(`no rollback point ${id}; see caretaker list-rollbacks`);
      }
      throw err;
    }
    try {
      const m = JSON.parse(text) as PointManifest;
      if (m.version !== 1 || m.id !== id || !Array.isArray(m.entries)) throw new Error('unexpected content');
      return m;
    } catch (err) {
      throw new RollbackError(
        `rollback point ${id} is damaged: ${this.#file(id)}: ${(err as Error).message}`,
      );
    }
  }

  /** Every point, newest first; damaged manifests are listed with their error. */
  async list(filter: { task?: string } = {}): Promise<PointSummary[]> {
    const out: PointSummary[] = [];
    for (const id of (await this.#ids()).reverse()) {
      try {
        const m = await this.get(id);
        if (filter.task === undefined || m.task === filter.task) out.push(summarize(m));
      } catch (err) {
        if (filter.task !== undefined) continue;
        out.push({
          id,
          kind: 'task',
          task: null,
          runId: null,
          label: '',
          createdAt: 0,
          files: 0,
          bytes: 0,
          addedBytes: 0,
          git: [],
          restores: [],
          error: (err as Error).message,
        });
      }
    }
    return out;
  }

  async #deleteLocked(id: string): Promise<void> {
    try {
      const m = await this.get(id);
      for (const g of m.git) await dropStashRef(this.gitRunner(), g);
    } catch {
      // A damaged manifest is deleted all the same; its blobs go with the next collection.
    }
    await rm(this.#file(id), { force: true });
  }

  /** Deletes blobs no point refers to any more. */
  async #collectLocked(): Promise<{ deleted: number; bytesFreed: number }> {
    const referenced = new Set<string>();
    for (const id of await this.#ids()) {
      let m: PointManifest;
      try {
        m = await this.get(id);
      } catch {
        // A damaged manifest cannot be read: keep every blob rather than guess which are its own.
        return { deleted: 0, bytesFreed: 0 };
      }
      for (const e of m.entries) if (e.kind === 'file') referenced.add(e.sha256);
    }
    const index = await this.#indexLocked();
    const gc = await this.blobs.collectGarbage(referenced, index.storedBlobs());
    index.dropBlobs(gc.deletedShas);
    return { deleted: gc.deleted, bytesFreed: gc.bytesFreed };
  }

  /** max_rollback_points, then max_backup_size, oldest first; `keep` is never dropped. */
  async retainLocked(keep: ReadonlySet<string>): Promise<RetentionResult> {
    const deleted: string[] = [];
    const ids = await this.#ids();
    const droppable = ids.filter((id) => !keep.has(id));
    while (ids.length - deleted.length > this.#limits.maxPoints && droppable.length > 0) {
      const id = droppable.shift()!;
      await this.#deleteLocked(id);
      deleted.push(id);
    }
    // Blobs lose their last point only when a point goes: without one, collecting would read
    // every manifest to find nothing (but the temp files of an interrupted put are removed).
    let gc =
      deleted.length > 0 || (await this.blobs.hasLeftovers())
        ? await this.#collectLocked()
        : { deleted: 0, bytesFreed: 0 };
    let blobsDeleted = gc.deleted;
    let bytesFreed = gc.bytesFreed;
    while (droppable.length > 0 && (await this.#indexLocked()).totalBytes() > this.#limits.maxBytes) {
      const id = droppable.shift()!;
      await this.#deleteLocked(id);
      deleted.push(id);
      gc = await this.#collectLocked();
      blobsDeleted += gc.deleted;
      bytesFreed += gc.bytesFreed;
    }
    return { pointsDeleted: deleted, blobsDeleted, bytesFreed };
  }

  /** Applies the configured retention now. */
  retain(): Promise<RetentionResult> {
    return this.locked(() => this.retainLocked(new Set()));
  }

  /** Deletes points older than `olderThanMs` (relative to the clock), then unreferenced blobs. */
  cleanup(olderThanMs: number): Promise<RetentionResult> {
    return this.locked(async () => {
      const cutoff = this.opts.clock.now() - olderThanMs;
      const deleted: string[] = [];
      for (const id of await this.#ids()) {
        let createdAt: number;
        try {
          createdAt = (await this.get(id)).createdAt;
        } catch {
          continue; // damaged: left for an operator to look at
        }
        if (createdAt < cutoff) {
          await this.#deleteLocked(id);
          deleted.push(id);
        }
      }
      const gc = await this.#collectLocked();
      return { pointsDeleted: deleted, blobsDeleted: gc.deleted, bytesFreed: gc.bytesFreed };
    });
  }

  /** Deletes one point (and what only it referenced). */
  delete(id: string): Promise<RetentionResult> {
    return this.locked(async () => {
      await this.get(id);
      await this.#deleteLocked(id);
      const gc = await this.#collectLocked();
      return { pointsDeleted: [id], blobsDeleted: gc.deleted, bytesFreed: gc.bytesFreed };
    });
  }
}
