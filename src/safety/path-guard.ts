/**
 * Where file actions may act. A configured root must not be `/`, the home directory, or the
 * state dir (or inside it); a walk skips the state dir when a root contains it; a path reached
 * through a symlink counts only if its real location stays inside the root.
 */
import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
}

/** Lexical containment: is `child` the same as or inside `parent` (both absolute)? */
export function isWithin(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

export interface PathGuardOptions {
  readonly stateDir: string;
  /** Defaults to the user's home directory. */
  readonly home?: string;
}

export class PathGuard {
  readonly stateDir: string;
  readonly home: string;

  constructor(opts: PathGuardOptions) {
    this.stateDir = resolve(opts.stateDir);
    this.home = resolve(opts.home ?? homedir());
  }

  /** Throws UnsafePathError when `root` may not be acted on. `what` names it in the message. */
  assertRoot(root: string, what: string): void {
    const abs = resolve(root);
    if (abs === sep) throw new UnsafePathError(`${what}: refusing to act on / (the whole filesystem)`);
    if (abs === this.home) throw new UnsafePathError(`${what}: refusing to act on the home directory ${abs}`);
    if (isWithin(abs, this.stateDir)) {
      throw new UnsafePathError(
        `${what}: ${abs} is caretaker's own state dir; choose a directory outside ${this.stateDir}`,
      );
    }
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
  async resolveRoot(root: string, what: string): Promise<string | undefined> {
    this.assertRoot(root, what);
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
      if (real === realHome)
        throw new UnsafePathError(`${what}: refusing to act on the home directory ${real}`);
      this.assertRoot(real, `${what} (a link to ${real})`);
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
