/**
 * The working tree as git sees it, without touching the repository's index or refs: a snapshot is
 * `git add -A && git write-tree` into a temporary index (so .gitignore is respected and untracked
 * files count), and what a fix changed is `git diff --numstat` between two snapshots.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { runInProcessGroup } from '../../os/process-group.js';
import type { ActionContext } from '../types.js';

async function git(
  ctx: ActionContext,
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  const r = await runInProcessGroup({
    command: ['git', ...args],
    cwd,
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C', ...env },
    signal: ctx.signal,
    killGraceMs: ctx.killGraceMs,
    clock: ctx.clock,
    onOutput: (t) => (out += t),
    onStderr: (t) => (err += t),
  });
  return { code: r.exitCode, out, err: r.spawnError ?? err.trim() };
}

/** The work tree's top directory, or null when `cwd` is not in one (or git is missing). */
export async function gitRoot(ctx: ActionContext, cwd: string): Promise<string | null> {
  const r = await git(ctx, cwd, ['rev-parse', '--show-toplevel']);
  return r.code === 0 ? r.out.trim() : null;
}

/** Files under `cwd` a fixer may touch: tracked and untracked ones, ignored ones left out. */
export async function workFiles(ctx: ActionContext, cwd: string): Promise<string[]> {
  const r = await git(ctx, cwd, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  if (r.code !== 0) throw new Error(`git ls-files failed in ${cwd}: ${r.err}`);
  const files = new Set(r.out.split('\0').filter(Boolean));
  return [...files].map((f) => resolve(cwd, f));
}

/** A tree object of the whole work tree as it is now (tracked, untracked, not ignored). */
export async function snapshotTree(ctx: ActionContext, root: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'caretaker-index-'));
  const index = join(dir, 'index');
  try {
    // Starting from a copy of the real index lets git skip re-hashing files whose stat is unchanged.
    const real = await git(ctx, root, ['rev-parse', '--git-path', 'index']);
    const realPath = real.out.trim();
    if (real.code === 0 && realPath)
      await copyFile(isAbsolute(realPath) ? realPath : join(root, realPath), index).catch(() => {});
    const env = { GIT_INDEX_FILE: index };
    const add = await git(ctx, root, ['add', '-A', '--', '.'], env);
    if (add.code !== 0) throw new Error(`git add -A into a temporary index failed: ${add.err}`);
    const tree = await git(ctx, root, ['write-tree'], env);
    if (tree.code !== 0) throw new Error(`git write-tree failed: ${tree.err}`);
    return tree.out.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface FileChange {
  /** Relative to the checked directory. */
  readonly file: string;
  /** null for a binary file. */
  readonly added: number | null;
  readonly removed: number | null;
}

/** `git diff --numstat` between two snapshots, limited to `cwd` and relative to it. */
export async function numstat(ctx: ActionContext, cwd: string, a: string, b: string): Promise<FileChange[]> {
  if (a === b) return [];
  const r = await git(ctx, cwd, ['diff', '--numstat', '-z', '--no-renames', '--relative', a, b]);
  if (r.code !== 0) throw new Error(`git diff --numstat failed: ${r.err}`);
  const out: FileChange[] = [];
  for (const entry of r.out.split('\0').filter(Boolean)) {
    const [added, removed, ...file] = entry.split('\t');
    out.push({
      file: file.join('\t'),
      added: added === '-' ? null : Number(added),
      removed: removed === '-' ? null : Number(removed),
    });
  }
  return out;
}

/** Paths (relative to `cwd`) that exist in snapshot `b` but not in `a`. */
export async function addedFiles(ctx: ActionContext, cwd: string, a: string, b: string): Promise<string[]> {
  if (a === b) return [];
  const r = await git(ctx, cwd, [
    'diff',
    '--name-only',
    '-z',
    '--no-renames',
    '--relative',
    '--diff-filter=A',
    a,
    b,
  ]);
  if (r.code !== 0) throw new Error(`git diff --name-only failed: ${r.err}`);
  return r.out.split('\0').filter(Boolean);
}
