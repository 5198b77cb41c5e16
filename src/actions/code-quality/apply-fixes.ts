/**
 * `fix: true`: the fix commands run inside a rollback point of the files git sees under the
 * checked directory, then the checks again, then `verify`. The fixes stay only if every fixer
 * ran, no check failed to run, the issues did not grow, and `verify` exited 0; otherwise the files
 * are restored, files the fixers created are deleted, and the tree is compared with its snapshot
 * from before to prove it.
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ActionContext } from '../types.js';
import { addedFiles, gitRoot, numstat, snapshotTree, workFiles, type FileChange } from './git-tree.js';
import { tail } from './issues.js';
import { runCommand, type CheckReport } from './run-check.js';
import { shown, type Command, type ToolSpec } from './tools.js';

export interface FixOutcome {
  readonly ran: readonly { tool: string; command: string; exitCode: number | null }[];
  readonly verify: { command: string; exitCode: number | null; outputTail: string } | null;
  readonly kept: boolean;
  readonly rolledBackBecause: string | null;
  readonly point: string | null;
  /** What the fixes changed (kept), or would have changed (rolled back). */
  readonly changes: readonly FileChange[];
  readonly linesAdded: number;
  readonly linesRemoved: number;
  /** The checks run after the fixes, when they ran. */
  readonly after: readonly CheckReport[] | null;
  /** Files that still differ from before after a rollback (should be none). */
  readonly notRestored: readonly string[];
}

interface Attempt {
  ran: FixOutcome['ran'][number][];
  treeAfter: string;
  after: CheckReport[] | null;
  verify: FixOutcome['verify'];
  why: string | null;
}

const count = (reports: readonly CheckReport[]) => reports.reduce((n, r) => n + (r.issues?.length ?? 0), 0);

export async function applyFixes(
  ctx: ActionContext,
  cwd: string,
  fixers: readonly ToolSpec[],
  verify: Command | undefined,
  foundBefore: number,
  recheck: () => Promise<CheckReport[]>,
): Promise<FixOutcome> {
  const root = await gitRoot(ctx, cwd);
  if (root === null)
    throw new Error(`fix: true needs ${cwd} to be in a git work tree (to snapshot and diff the fixes)`);
  const files = await workFiles(ctx, cwd);
  const treeBefore = await snapshotTree(ctx, root);
  const guarded = await ctx.withRollbackPoint(
    files,
    async (): Promise<Attempt> => {
      const ran: Attempt['ran'] = [];
      for (const t of fixers) {
        ctx.output(`$ ${shown(t.fixCommand!)}\n`);
        const r = await runCommand(ctx, cwd, t.fixCommand!, { echo: true });
        ran.push({ tool: t.name, command: shown(t.fixCommand!), exitCode: r.exitCode });
        // A fixer's non-zero exit usually means "some problems remain" (eslint --fix): only a
        // fixer that did not run at all is a failure; the checks and verify judge the rest.
        if (r.failure)
          return {
            ran,
            treeAfter: treeBefore,
            after: null,
            verify: null,
            why: `${t.name} fix: ${r.failure}`,
          };
      }
      const treeAfter = await snapshotTree(ctx, root);
      if (treeAfter === treeBefore) return { ran, treeAfter, after: null, verify: null, why: null };
      const after = await recheck();
      const broken = after.find((r) => r.issues === null);
      if (broken) return { ran, treeAfter, after, verify: null, why: `after the fixes ${broken.error}` };
      if (count(after) > foundBefore)
        return {
          ran,
          treeAfter,
          after,
          verify: null,
          why: `the fixes left more issues (${count(after)}) than before (${foundBefore})`,
        };
      if (verify === undefined) return { ran, treeAfter, after, verify: null, why: null };
      ctx.output(`$ ${shown(verify)}\n`);
      const v = await runCommand(ctx, cwd, verify, { echo: true });
      const record = {
        command: shown(verify),
        exitCode: v.exitCode,
        outputTail: tail(`${v.stdout}${v.stderr}`),
      };
      const failed = v.failure ?? (v.exitCode !== 0 ? `exit ${v.exitCode}` : null);
      return {
        ran,
        treeAfter,
        after,
        verify: record,
        why: failed ? `verify \`${shown(verify)}\` failed (${failed})` : null,
      };
    },
    {
      keep: (a) => a.why === null,
      label: `code-quality fixes by ${fixers.map((f) => f.name).join(', ')}`,
    },
  );
  const a = guarded.value;
  const changes = await numstat(ctx, cwd, treeBefore, a.treeAfter);
  let notRestored: string[] = [];
  if (!guarded.kept) {
    // The point covers the files that existed; what the fixers created is removed here.
    for (const f of await addedFiles(ctx, cwd, treeBefore, a.treeAfter))
      await rm(resolve(cwd, f), { force: true });
    const now = await snapshotTree(ctx, root);
    const touched = new Set(changes.map((c) => c.file));
    // Only the fixers' files are compared: verify (tests) may write files of its own.
    notRestored = (await numstat(ctx, cwd, treeBefore, now)).map((c) => c.file).filter((f) => touched.has(f));
  }
  return {
    ran: a.ran,
    verify: a.verify,
    kept: guarded.kept,
    rolledBackBecause: guarded.kept ? null : a.why,
    point: guarded.point,
    changes,
    linesAdded: changes.reduce((n, c) => n + (c.added ?? 0), 0),
    linesRemoved: changes.reduce((n, c) => n + (c.removed ?? 0), 0),
    after: a.after,
    notRestored,
  };
}
