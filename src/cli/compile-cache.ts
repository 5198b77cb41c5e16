/**
 * Node's on-disk compile cache for the CLI (node:module `enableCompileCache`, Node ≥ 22.1): a
 * cold `caretaker validate` spent about a fifth of its time compiling the modules it loads, and
 * with the cache a second run reuses V8's code instead. On Node 20, where the function does not
 * exist, this does nothing.
 *
 * The cache lives under `$XDG_CACHE_HOME/caretaker/compile-cache` when that is set, else in a
 * per-user directory under the OS temp dir — never in the state dir, which belongs to a config.
 * A directory that cannot be created or written only means no cache: Node reports that as a
 * status and the command runs as before. `NODE_DISABLE_COMPILE_CACHE=1` turns it off, and an
 * explicit `NODE_COMPILE_CACHE` wins, as Node documents for both.
 */
import * as nodeModule from 'node:module';
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

interface CompileCacheApi {
  enableCompileCache?: (dir?: string) => { status: number; message?: string; directory?: string };
  flushCompileCache?: () => void;
}

const api = nodeModule as unknown as CompileCacheApi;

/** The directory the cache goes in for this environment and user. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg.startsWith('/')) return join(xdg, 'caretaker', 'compile-cache');
  const uid = process.getuid?.() ?? 'user';
  return join(tmpdir(), `caretaker-compile-cache-${uid}`);
}

/**
 * Turns the cache on for every module loaded from now on. Returns the directory in use, or
 * undefined when there is no cache (Node 20, turned off, or the directory is unusable).
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (typeof api.enableCompileCache !== 'function' || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const dir = env.NODE_COMPILE_CACHE || compileCacheDir(env);
  // We make the directory ourselves: Node's own recursive mkdir spins forever on a path under
  // /proc (XDG_CACHE_HOME=/proc/x hung the CLI). And in a shared temp dir, a directory someone
  // else made under our name could hand us their code cache: use it only when it is ours.
  if (!makeDir(dir, 0) || !ownDirectory(dir)) return undefined;
  try {
    const result = api.enableCompileCache(dir);
    return result.status === 1 || result.status === 2 ? (result.directory ?? dir) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes what was compiled so far (Node ≥ 22.10): the CLI ends with process.exit(). */
export function flushCompileCache(): void {
  try {
    api.flushCompileCache?.();
  } catch {
    // A cache that cannot be written is only a slower next start.
  }
}

/** mkdir -p, one level at a time (private to the user), bounded by the path's depth. */
function makeDir(dir: string, depth: number): boolean {
  try {
    mkdirSync(dir, { mode: 0o700 });
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return true;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir || depth > 64) return false;
    return makeDir(parent, depth + 1) && makeDir(dir, depth + 1);
  }
}

function ownDirectory(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid);
  } catch {
    return false;
  }
}
