/**
 * Where file actions may act. A configured root must not be `/`, the home directory, or the
 * state dir (or inside it); a walk skips the state dir when a root contains it; a path reached
 * through a symlink counts only if its real location stays inside the root. The same rules run
 * twice: when the config is loaded (`checkRootSync`, so `caretaker validate` reports them) and
 * when an action starts (`resolveRoot`, for what changed since).
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve, sep } from 'node:path';
import { isWithin } from '../core/path-within.js';

/** A target caretaker must never act on (`/`, the home directory, its own state dir). Exit 2. */
export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
  readonly exitCode = 2;
}

export { isWithin };

export interface PathGuardOptions {
  readonly stateDir: string;
  /** Defaults to the user's home directory. */
  readonly home?: string;
}

/** How a root is used, which decides what it may be. */
export interface RootRule {
  /**
   * `refuse`: a root that is itself a symbolic link is refused — the action would otherwise act on
   * wherever the link points (prune-files deleting outside its tree). @default 'follow'
   */
  readonly links?: 'refuse' | 'follow';
  /**
   * `source`: only read (a backup's paths), so the home directory is fine; `/` and the state dir
   * are not. @default 'target'
   */
  readonly role?: 'target' | 'source';
}

export class PathGuard {
  readonly stateDir: string;
  readonly home: string;

  constructor(opts: PathGuardOptions) {
    this.stateDir = resolve(opts.stateDir);
    this.home = resolve(opts.home ?? homedir());
  }

  /** Throws UnsafePathError when `root` may not be acted on. `what` names it in the message. */
  assertRoot(root: string, what: string, role: RootRule['role'] = 'target'): void {
    const abs = resolve(root);
    if (abs === sep)
      throw new UnsafePathError(
        role === 'source'
          ? `${what}: refusing to back up / as a whole; list the directories to back up`
          : `${what}: refusing to act on / (the whole filesystem)`,
      );
    if (abs === this.home && role === 'target')
      throw new UnsafePathError(`${what}: refusing to act on the home directory ${abs}`);
    if (isWithin(abs, this.stateDir)) {
      throw new UnsafePathError(
        `${what}: ${abs} is caretaker's own state dir; choose a directory outside ${this.stateDir}`,
      );
    }
  }

  /**
   * The load-time form of `resolveRoot`: the same rules, synchronously, plus `rule.links`. A root
   * that does not exist yet passes (caches and logs come and go); the run checks it again.
   */
  checkRootSync(root: string, what: string, rule: RootRule = {}): void {
    const role = rule.role ?? 'target';
    const abs = resolve(root);
    this.assertRoot(abs, what, role);
    let isLink: boolean;
    try {
      isLink = lstatSync(abs).isSymbolicLink();
    } catch {
      return;
    }
    if (isLink && rule.links === 'refuse') throw linkRootError(what, abs, readlinkSync(abs));
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      return; // a dangling link: nothing to act on yet
    }
    let realState: string | undefined;
    try {
      realState = realpathSync(this.stateDir);
    } catch {
      realState = undefined;
    }
    if (real !== abs) {
      let realHome = this.home;
      try {
        realHome = realpathSync(this.home);
      } catch {
        // keep the home as written
      }
      if (real === realHome && role === 'target')
        throw new UnsafePathError(`${what}: refusing to act on the home directory ${real}`);
      this.assertRoot(real, `${what} (a link to ${real})`, role);
    }
    if (realState !== undefined && isWithin(real, realState))
      throw new UnsafePathError(
        `${what}: ${real} is caretaker's own state dir; choose a directory outside ${this.stateDir}`,
      );
  }

  /** True for paths a walk must never touch (the state dir and what is inside it). */
  isProtected(path: string): boolean {
    const abs = resolve(path);
    return (
      isWithin(abs, this.stateDir) || (this.#realStateDir !== undefined && isWithin(abs, this.#realStateDir))
    );
  }

  #realStateDir: string | undefined;

  /**
   * Resolves a configured root (a directory a walk starts from) through symlinks and applies
   * `assertRoot` to both the path as written and its real location, so a link to `/` or to the
   * state dir is refused too. Returns the real path, or undefined when the root does not exist.
   * Walks then use only real paths and never follow a link, so `isProtected` compares like with like.
   */
  async resolveRoot(
    root: string,
    what: string,
    role: RootRule['role'] = 'target',
  ): Promise<string | undefined> {
    this.assertRoot(root, what, role);
    if (this.#realStateDir === undefined) {
      this.#realStateDir = await realpath(this.stateDir).catch(() => undefined);
    }
    let real: string;
    try {
      real = await realpath(root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (real !== resolve(root)) {
      const realHome = await realpath(this.home).catch(() => this.home);
      if (real === realHome && role === 'target')
        throw new UnsafePathError(`${what}: refusing to act on the home directory ${real}`);
      this.assertRoot(real, `${what} (a link to ${real})`, role);
    }
    if (this.isProtected(real)) {
      throw new UnsafePathError(
        `${what}: ${real} is caretaker's own state dir; choose a directory outside ${this.stateDir}`,
      );
    }
    return real;
  }

  /**
   * Resolves symlinks and checks that the real location stays inside the (real) root.
   * Returns the real path, or undefined when it escapes or does not exist.
   */
  async realInside(path: string, root: string): Promise<string | undefined> {
    try {
      const [real, realRoot] = await Promise.all([realpath(path), realpath(root)]);
      return isWithin(real, realRoot) && !this.isProtected(real) ? real : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The message for a root that is a symbolic link where links are not followed. */
export function linkRootError(what: string, abs: string, target: string): UnsafePathError {
  return new UnsafePathError(
    `${what}: ${abs} is a symbolic link (to ${target}); a link named as a root is not followed — name the directory it points to`,
  );
}
