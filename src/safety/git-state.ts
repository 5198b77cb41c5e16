/**
 * The git state of the working trees a rollback point covers: HEAD, branch, whether the tree was
 * dirty and, when it was, a `git stash create` commit holding every tracked change. The stash
 * commit is kept reachable under refs/caretaker/rollback/<point> so that `git gc` does not prune it
 * while the point exists; the point's deletion removes the ref.
 */
import { dirname } from 'node:path';
import { stat } from 'node:fs/promises';
import { runInProcessGroup } from '../os/process-group.js';
import type { Clock } from '../core/clock.js';

export interface GitState {
  /** The working tree's top-level directory. */
  readonly root: string;
  /** HEAD commit, or null in a repository without commits. */
  readonly head: string | null;
  /** Branch name, or null when HEAD is detached. */
  readonly branch: string | null;
  readonly dirty: boolean;
  /** `git stash create` commit of the tracked changes when dirty (untracked files are not in it). */
  readonly stash: string | null;
  /** The ref that keeps `stash` reachable. */
  readonly stashRef: string | null;
}

export interface GitRunner {
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly killGraceMs: number;
}

async function git(
  runner: GitRunner,
  cwd: string,
  args: string[],
): Promise<{ code: number | null; out: string; spawnError?: string }> {
  let out = '';
  const r = await runInProcessGroup({
    command: ['git', ...args],
    cwd,
    // No pager, no prompts, and no locale surprises in the output we parse.
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C' },
    signal: runner.signal,
    killGraceMs: runner.killGraceMs,
    clock: runner.clock,
    onOutput: (t) => (out += t),
  });
  return { code: r.exitCode, out: out.trim(), spawnError: r.spawnError };
}

/** The directory to ask git from: the path itself when it is a directory, else its parent. */
async function probeDir(path: string): Promise<string | undefined> {
  for (let p = path; ; p = dirname(p)) {
    try {
      if ((await stat(p)).isDirectory()) return p;
    } catch {
      // does not exist (yet): ask from its parent
    }
    if (dirname(p) === p) return undefined;
  }
}

/** The top-level directories of the git working trees that contain these paths. */
export async function gitRoots(runner: GitRunner, paths: readonly string[]): Promise<string[]> {
  const roots = new Set<string>();
  const asked = new Set<string>();
  for (const path of paths) {
    const dir = await probeDir(path);
    if (!dir || asked.has(dir)) continue;
    asked.add(dir);
    const r = await git(runner, dir, ['rev-parse', '--show-toplevel']);
    if (r.spawnError) return []; // git is not installed: there is no git state to record
    if (r.code === 0 && r.out) roots.add(r.out);
  }
  return [...roots].sort();
}

export async function captureGitState(runner: GitRunner, root: string, pointId: string): Promise<GitState> {
  const head = await git(runner, root, ['rev-parse', '--verify', '--quiet', 'HEAD']);
  const branch = await git(runner, root, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  const status = await git(runner, root, ['status', '--porcelain', '--untracked-files=normal']);
  const dirty = status.code === 0 && status.out.length > 0;
  let stash: string | null = null;
  let stashRef: string | null = null;
  if (dirty && head.code === 0) {
    const created = await git(runner, root, ['stash', 'create', `caretaker rollback point ${pointId}`]);
    if (created.code === 0 && /^[0-9a-f]{40,64}$/.test(created.out)) {
      stash = created.out;
      const ref = `refs/caretaker/rollback/${pointId}`;
      const kept = await git(runner, root, ['update-ref', ref, stash]);
      if (kept.code === 0) stashRef = ref;
    }
  }
  return {
    root,
    head: head.code === 0 && head.out ? head.out : null,
    branch: branch.code === 0 && branch.out ? branch.out : null,
    dirty,
    stash,
    stashRef,
  };
}

/** Current HEAD and branch, to tell the operator when they moved since a point was taken. */
export async function currentHead(
  runner: GitRunner,
  root: string,
): Promise<{ head: string | null; branch: string | null }> {
  const head = await git(runner, root, ['rev-parse', '--verify', '--quiet', 'HEAD']);
  const branch = await git(runner, root, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return {
    head: head.code === 0 && head.out ? head.out : null,
    branch: branch.code === 0 && branch.out ? branch.out : null,
  };
}

export async function dropStashRef(runner: GitRunner, state: GitState): Promise<void> {
  if (state.stashRef) await git(runner, state.root, ['update-ref', '-d', state.stashRef]);
}
