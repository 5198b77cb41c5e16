/**
 * Which code a run tested: HEAD, plus a hash of the uncommitted changes to tracked files (two runs
 * on one commit with different edits did not test the same code). Untracked files — the reports
 * themselves — do not count.
 */
import { createHash } from 'node:crypto';
import { runTool } from '../deps/run-tool.js';
import type { ActionContext } from '../types.js';

export interface CodeState {
  readonly commit: string | null;
  readonly worktree: string | null;
}

export async function codeState(ctx: ActionContext, cwd: string): Promise<CodeState> {
  const head = await runTool(ctx, cwd, ['git', 'rev-parse', 'HEAD']);
  const commit = head.code === 0 ? head.stdout.trim() : '';
  if (!/^[0-9a-f]{40,64}$/.test(commit)) return { commit: null, worktree: null };
  const diff = await runTool(ctx, cwd, ['git', 'diff', 'HEAD', '--no-ext-diff', '--binary']);
  const worktree =
    diff.code === 0 && diff.stdout !== ''
      ? createHash('sha256').update(diff.stdout).digest('hex').slice(0, 16)
      : null;
  return { commit, worktree };
}
