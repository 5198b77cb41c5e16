/**
 * The one directory walk of caretaker: prune-files, backups and rollback points each put their
 * own selection on top of it. Depth first, directory by directory: a directory's own entries
 * (files, links, special files) are handed over in batches, then its subdirectories are walked,
 * so what is held is the current batch and the stack of directories still to visit — a tree of a
 * million files costs memory in proportion to its depth and width, not its size.
 *
 * Links are never followed: a symlink is handed over (or counted) as a link, whether it points
 * at a file or a directory, inside the tree or out of it. Every directory is checked, right
 * before it is read, to still be the real directory the walk reached (`sameDirectory`: same
 * device and inode, no link on the way), so a directory swapped for a link mid-walk cannot lead
 * the walk out of its root. Special files (sockets, FIFOs, devices), directories that cannot be
 * read and filesystems mounted inside the tree are reported, never silently dropped.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { FsPace } from './fs-pace.js';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'special';

/** A directory the walk is in, with the state its user keeps for it (`D`). */
export type WalkedDir<D extends object = object> = D & {
  /** Real, absolute path. */
  readonly path: string;
  /** Relative to the root, posix separators; '' for the root itself. */
  readonly rel: string;
  readonly depth: number;
  readonly dev: number;
  readonly ino: number;
  readonly parent: WalkedDir<D> | undefined;
  /** Entries its listing held (of any kind), set once it has been read. */
  entries: number;
};

export interface WalkedEntry {
  readonly name: string;
  readonly kind: EntryKind;
  /** lstat of the entry, taken just before it was handed over. */
  readonly stats: Stats;
}

export interface WalkProblem {
  /** unreadable: a directory (or the root) that could not be read; changed: one replaced while the walk reached it; mount: another filesystem, not entered. */
  readonly kind: 'unreadable' | 'changed' | 'mount';
  readonly path: string;
  /** errno code of an unreadable directory (ENOENT, EACCES, …). */
  readonly code?: string;
  /** One line for the operator, e.g. `/srv/cache/x: cannot read (EACCES)`. */
  readonly message: string;
}

/** What the walk saw, whether or not it was handed over. */
export interface WalkCounters {
  /** Directories walked (read). */
  dirs: number;
  /** Regular files listed. */
  files: number;
  symlinks: number;
  /** Sockets, FIFOs, devices. */
  special: number;
  /** Directories that could not be read, or were replaced mid-walk. */
  unreadable: number;
  /** Other filesystems mounted inside the tree, not entered. */
  mounts: number;
}

export interface TreeWalk<D extends object> {
  readonly signal?: AbortSignal;
  /** How the file system calls are made; shared with a caller that also removes files. */
  readonly pace?: FsPace;
  /** lstat calls made at once, and the most entries handed to `onEntries` at a time. @default 64 */
  readonly batch?: number;
  /**
   * Hand entries over, and walk subdirectories, in name order. Each directory's listing is then
   * held whole while it is handled. @default false: listing order, a few hundred names at a time
   */
  readonly sorted?: boolean;
  /** Walk into other filesystems mounted inside the tree. @default false (like `find -xdev`) */
  readonly crossMounts?: boolean;
  /** Look at this entry of a listing at all? Decided by name before any lstat. @default yes */
  include?(dir: WalkedDir<D>, name: string, rel: string, kind: EntryKind): boolean;
  /**
   * A directory to walk into (lstat'ed just now; the root too, with no parent): the state to
   * keep for it, or undefined to leave it out.
   */
  enter(parent: WalkedDir<D> | undefined, entry: WalkedEntry, rel: string): D | undefined;
  /** A batch of the directory's own files, links and special files (never directories). */
  onEntries?(dir: WalkedDir<D>, entries: readonly WalkedEntry[]): void | Promise<void>;
  /** All of the directory's own entries were handed over (its subdirectories are still to come). */
  onDirDone?(dir: WalkedDir<D>): void | Promise<void>;
  /** The directory and everything below it are done. */
  onSubtreeDone?(dir: WalkedDir<D>): void | Promise<void>;
  /** Told of each problem as it happens; may throw to end the walk. @default ignored */
  onProblem?(problem: WalkProblem): void;
}

const DEFAULT_BATCH = 64;
/** A walk of a fast filesystem runs synchronously: it lets the event loop run this often. */
const YIELD_EVERY_MS = 20;

export function newCounters(): WalkCounters {
  return { dirs: 0, files: 0, symlinks: 0, special: 0, unreadable: 0, mounts: 0 };
}

export function kindOfStats(st: Stats): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'special';
}

/**
 * Is `dir` still the directory the walk entered (same device and inode, reached without any
 * link on the way)? A caller that removes by path checks it right before each batch.
 */
export async function sameDirectory(
  dir: { readonly path: string; readonly dev: number; readonly ino: number },
  pace: FsPace,
): Promise<boolean> {
  const r = await pace.lstatReal(dir.path);
  return (
    r !== undefined &&
    r.st.isDirectory() &&
    r.st.dev === dir.dev &&
    r.st.ino === dir.ino &&
    r.real === dir.path
  );
}

function listedKind(d: Dirent): EntryKind | undefined {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice()) return 'special';
  return undefined;
}

function codeOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/**
 * Walks `root` (an absolute path). Returns the root as an entry — a root that is not a directory
 * is returned without anything being called — or undefined when it cannot be lstat'ed (reported
 * as unreadable).
 */
export async function walkTree<D extends object>(
  root: string,
  walk: TreeWalk<D>,
  counters: WalkCounters = newCounters(),
): Promise<WalkedEntry | undefined> {
  const w = new Walker(walk, counters);
  let st: Stats;
  try {
    st = await lstat(root);
  } catch (err) {
    const code = codeOf(err);
    w.problem({ kind: 'unreadable', path: root, code, message: `${root}: cannot read (${code})` });
    return undefined;
  }
  const entry: WalkedEntry = { name: basename(root), kind: kindOfStats(st), stats: st };
  if (entry.kind !== 'dir') return entry;
  const data = walk.enter(undefined, entry, '');
  if (data) await w.walkDir(dirOf(data, root, '', 0, st, undefined));
  return entry;
}

function dirOf<D extends object>(
  data: D,
  path: string,
  rel: string,
  depth: number,
  st: Stats,
  parent: WalkedDir<D> | undefined,
): WalkedDir<D> {
  return Object.assign(data, { path, rel, depth, dev: st.dev, ino: st.ino, parent, entries: 0 });
}

class Walker<D extends object> {
  readonly pace: FsPace;
  readonly #batch: number;
  #lastYield = performance.now();

  constructor(
    readonly walk: TreeWalk<D>,
    readonly counters: WalkCounters,
  ) {
    this.pace = walk.pace ?? new FsPace();
    this.#batch = walk.batch ?? DEFAULT_BATCH;
  }

  problem(p: WalkProblem): void {
    if (p.kind === 'mount') this.counters.mounts++;
    else this.counters.unreadable++;
    this.walk.onProblem?.(p);
  }

  async #breathe(): Promise<void> {
    this.walk.signal?.throwIfAborted();
    if (performance.now() - this.#lastYield < YIELD_EVERY_MS) return;
    await yieldToLoop();
    this.#lastYield = performance.now();
    this.walk.signal?.throwIfAborted();
  }

  async walkDir(dir: WalkedDir<D>): Promise<void> {
    await this.#breathe();
    this.counters.dirs++;
    const subdirs: { name: string; rel: string }[] = [];
    let failure: WalkProblem | undefined;
    try {
      if (!(await sameDirectory(dir, this.pace))) {
        failure = {
          kind: 'changed',
          path: dir.path,
          message: `${dir.path}: changed while the walk reached it (replaced by a link?); skipped`,
        };
      } else await this.#readOwnEntries(dir, subdirs);
    } catch (err) {
      if (this.walk.signal?.aborted) throw err;
      const code = codeOf(err);
      failure = { kind: 'unreadable', path: dir.path, code, message: `${dir.path}: cannot read (${code})` };
    }
    if (failure) {
      this.problem(failure);
      return;
    }
    await this.walk.onDirDone?.(dir);
    for (const sub of subdirs) await this.#walkSubdir(dir, sub.name, sub.rel);
    await this.walk.onSubtreeDone?.(dir);
  }

  /** Reads the listing: hands over the directory's own entries, collects its subdirectories. */
  async #readOwnEntries(dir: WalkedDir<D>, subdirs: { name: string; rel: string }[]): Promise<void> {
    let pending: string[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const names = pending;
      pending = [];
      const stats = await this.pace.lstatMany(names.map((n) => join(dir.path, n)));
      const entries: WalkedEntry[] = [];
      for (let i = 0; i < names.length; i++) {
        const s = stats[i];
        if (!s) continue; // vanished since it was listed
        const kind = kindOfStats(s);
        // Replaced by a directory since it was listed: not entered, it was not there to walk.
        if (kind !== 'dir') entries.push({ name: names[i]!, kind, stats: s });
      }
      if (entries.length > 0) await this.walk.onEntries?.(dir, entries);
      await this.#breathe();
    };
    const listing = this.walk.sorted ? await this.#sortedListing(dir.path) : this.pace.entries(dir.path);
    for await (const d of listing) {
      dir.entries++;
      const kind = listedKind(d) ?? (await this.#askKind(dir.path, d.name));
      if (kind === undefined) continue; // vanished
      if (kind === 'file') this.counters.files++;
      else if (kind === 'symlink') this.counters.symlinks++;
      else if (kind === 'special') this.counters.special++;
      const rel = dir.rel === '' ? d.name : `${dir.rel}/${d.name}`;
      if (this.walk.include && !this.walk.include(dir, d.name, rel, kind)) continue;
      if (kind === 'dir') subdirs.push({ name: d.name, rel });
      else {
        pending.push(d.name);
        if (pending.length >= this.#batch) await flush();
      }
    }
    await flush();
  }

  async #sortedListing(path: string): Promise<Dirent[]> {
    const all: Dirent[] = [];
    for await (const d of this.pace.entries(path)) all.push(d);
    // Code-unit order, as Array.prototype.sort and `ls` in the C locale.
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Some filesystems do not report the type in the listing (DT_UNKNOWN): ask. */
  async #askKind(dir: string, name: string): Promise<EntryKind | undefined> {
    const [s] = await this.pace.lstatMany([join(dir, name)]);
    return s ? kindOfStats(s) : undefined;
  }

  /** A subdirectory, lstat'ed again right before it is entered (the listing may be old by now). */
  async #walkSubdir(parent: WalkedDir<D>, name: string, rel: string): Promise<void> {
    const path = join(parent.path, name);
    const [s] = await this.pace.lstatMany([path]);
    if (!s) return; // vanished
    const kind = kindOfStats(s);
    if (kind !== 'dir') {
      // Replaced since it was listed: a link is handed over as a link, never followed.
      if (kind === 'symlink') {
        this.counters.symlinks++;
        await this.walk.onEntries?.(parent, [{ name, kind, stats: s }]);
      }
      return;
    }
    if (s.dev !== parent.dev && !this.walk.crossMounts) {
      this.problem({
        kind: 'mount',
        path,
        message: `${path}: another filesystem is mounted here; not entered`,
      });
      return;
    }
    const data = this.walk.enter(parent, { name, kind, stats: s }, rel);
    if (data) await this.walkDir(dirOf(data, path, rel, parent.depth + 1, s, parent));
  }
}
