/**
 * `prune-files`: cache, temp and export cleanup with retention. Walks each root as a stream
 * (never the whole tree in memory), never follows a link, never leaves its roots, and refuses
 * `/`, the home directory and caretaker's state dir. See docs/actions/prune-files.md.
 */
import { plural } from '../core/plural.js';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { formatDuration } from '../core/duration.js';
import { formatSize } from '../core/size.js';
import { PathGuard, UnsafePathError } from '../safety/path-guard.js';
import { ArchiveMover } from './prune-files/archive-move.js';
import { FsPace } from '../os/fs-pace.js';
import { atimeWarning } from './prune-files/atime-support.js';
import { Disposal, newRootReport, PlanWriter, type RootReport } from './prune-files/file-disposal.js';
import { RetentionPass, type PassKind, type RetentionRules } from './prune-files/retention-pass.js';
import { archiveLabel, buildSelection, type PruneRoot, type Selection } from './prune-files/selection.js';
import { SizeBudget } from './prune-files/size-budget.js';
import { newCounters, walkTree, type DirVisit, type WalkCounters } from './prune-files/tree-walk.js';
import { pruneFilesDeclaration } from './prune-files/declaration.js';
import type { schema } from './prune-files/schema.js';
import { defineAction, type ActionContext, type ActionResult } from './types.js';

type Options = z.output<typeof schema>;

/** Dry-run steps kept in the result; the rest go to a file in the task's state dir. */
const PLAN_LIMIT = 1000;

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

interface RunState {
  readonly ctx: ActionContext;
  readonly o: Options;
  readonly selection: Selection;
  readonly rules: RetentionRules;
  readonly disposal: Disposal;
  readonly reports: Map<PruneRoot, RootReport>;
  readonly counters: WalkCounters;
  readonly warnings: string[];
  readonly plannedDirs: Set<string>;
}

async function walkPass(st: RunState, pass: PassKind): Promise<void> {
  const retention = new RetentionPass(st.rules, pass, st.disposal);
  const { ctx, o } = st;
  let lastProgress = 0;
  for (const root of st.selection.roots) {
    const report = st.reports.get(root)!;
    const before = st.counters.symlinks;
    await walkTree(
      root.dir,
      root.globs === undefined,
      {
        signal: ctx.signal,
        pace: st.disposal.opts.pace,
        batch: o.concurrency ?? 64,
        enter: (parent, name, rel) => st.selection.enter(root, parent, name, rel),
        selects: (dir, name, rel) => st.selection.selects(root, dir, name, rel),
        onFiles: async (dir, files) => {
          await retention.onFiles(dir, files, report);
          if (st.counters.files - lastProgress >= 5000) {
            lastProgress = st.counters.files;
            ctx.progress({ done: st.counters.files, unit: 'files', label: root.dir });
          }
        },
        onDirFilesDone: () => retention.onDirFilesDone(report),
        onSubtreeDone: (dir) => removeIfEmpty(st, dir, report),
        warn: (m) => st.warnings.push(m),
      },
      st.counters,
    );
    if (pass.kind === 'collect') report.symlinksSkipped += st.counters.symlinks - before;
  }
}

async function removeIfEmpty(st: RunState, dir: DirVisit, report: RootReport): Promise<void> {
  if (!st.o.remove_empty_dirs || dir.depth === 0 || !dir.inScope || dir.entries !== dir.gone) return;
  if (st.plannedDirs.has(dir.path)) return;
  if (st.ctx.dryRun) {
    st.plannedDirs.add(dir.path);
    await st.disposal.opts.plan.add(`remove empty directory ${dir.path}`);
  } else {
    try {
      await rmdir(dir.path);
    } catch {
      return; // not empty after all (written to meanwhile), or gone: leave it
    }
  }
  report.dirsRemoved++;
  if (dir.parent) dir.parent.gone++;
}

function summaryOf(st: RunState, archiveDir: string | undefined, totals: RootReport): string {
  const verb = archiveDir
    ? st.ctx.dryRun
      ? 'would archive'
      : 'archived'
    : st.ctx.dryRun
      ? 'would remove'
      : 'removed';
  const roots = st.selection.roots.length;
  let s = `${verb} ${totals.filesRemoved} of ${plural(totals.filesSelected, 'file')} (${formatSize(totals.bytesRemoved)}) in ${plural(roots, 'root')}`;
  if (totals.filesEvicted > 0) s += `, ${totals.filesEvicted} of them for max_total_size`;
  if (totals.dirsRemoved > 0)
    s += `; ${totals.dirsRemoved} empty director${totals.dirsRemoved === 1 ? 'y' : 'ies'}`;
  s += `; kept ${totals.filesKept} (${formatSize(totals.bytesKept)})`;
  if (archiveDir) s += ` — archive: ${archiveDir}`;
  return s;
}

function sumReports(reports: Iterable<RootReport>): RootReport {
  const t = newRootReport('(all)', []);
  for (const r of reports) {
    for (const k of Object.keys(t) as (keyof RootReport)[]) {
      if (typeof t[k] === 'number') (t as unknown as Record<string, number>)[k]! += r[k] as number;
    }
  }
  return t;
}

export const pruneFilesAction = defineAction({
  ...pruneFilesDeclaration,
  async run(ctx, o): Promise<ActionResult> {
    const guard = new PathGuard({ stateDir: ctx.stateDir });
    const now = ctx.clock.now();
    let archiveBase: string | undefined;
    let archiveDir: string | undefined;
    let selection: Selection;
    try {
      if (o.archive_to !== undefined) {
        const base = ctx.resolvePath(o.archive_to);
        guard.assertRoot(base, 'archive_to');
        if (!ctx.dryRun) await mkdir(base, { recursive: true });
        archiveBase = (await guard.resolveRoot(base, 'archive_to')) ?? base;
        archiveDir = join(archiveBase, utcDay(now));
      }
      selection = await buildSelection({
        paths: o.paths,
        include: o.include,
        exclude: o.exclude,
        baseDir: ctx.baseDir,
        guard,
        archiveDir: archiveBase,
      });
    } catch (err) {
      if (err instanceof UnsafePathError) return { ok: false, summary: err.message, changed: false };
      throw err;
    }
    const warnings: string[] = [];
    for (const m of selection.missing) warnings.push(`${m}: does not exist; nothing to prune there`);
    warnings.push(...selection.notes);
    const by = o.by ?? 'mtime';
    if (by === 'atime') {
      for (const r of selection.roots) {
        const w = await atimeWarning(r.dir, o.older_than);
        if (w) warnings.push(w);
      }
    }
    const pace = new FsPace();
    const plan = new PlanWriter(PLAN_LIMIT, join(ctx.taskStateDir, `prune-plan-run-${ctx.runId}.txt`));
    const st: RunState = {
      ctx,
      o,
      selection,
      rules: {
        timeOf: by === 'atime' ? (f) => f.atimeMs : (f) => f.mtimeMs,
        cutoffMs: o.older_than !== undefined ? now - o.older_than : undefined,
        keepNewest: o.keep_newest,
      },
      disposal: new Disposal({
        mode: ctx.dryRun ? 'plan' : archiveDir ? 'archive' : 'delete',
        pace,
        plan,
        mover: archiveDir ? new ArchiveMover() : undefined,
        archiveDirFor: archiveDir
          ? (dir) => join(archiveDir!, archiveLabel(rootOf(selection, dir), ctx.baseDir), dir.rel)
          : undefined,
        warn: (m) => warnings.push(m),
      }),
      reports: new Map(selection.roots.map((r) => [r, newRootReport(r.dir, r.patterns)])),
      counters: newCounters(),
      warnings,
      plannedDirs: new Set(),
    };

    const budget = o.max_total_size !== undefined ? new SizeBudget() : undefined;
    await walkPass(st, { kind: 'collect', budget });
    const cut = budget?.cutoff(o.max_total_size!);
    if (cut) await walkPass(st, { kind: 'evict', cut });

    const totals = sumReports(st.reports.values());
    if (budget && o.max_total_size !== undefined && totals.bytesKept > o.max_total_size) {
      warnings.push(
        `still ${formatSize(totals.bytesKept)} after pruning, over max_total_size ${formatSize(o.max_total_size)}: the rest is protected by keep_newest or could not be removed`,
      );
    }
    const planFile = ctx.dryRun ? await plan.finish() : undefined;
    const planSteps = [...plan.steps];
    if (planFile)
      planSteps.push(`… ${plan.count - plan.steps.length} more steps; the full plan is in ${planFile}`);
    const rootsOut = [...st.reports.values()];
    return {
      ok: true,
      summary: summaryOf(st, archiveDir, totals),
      changed: !ctx.dryRun && (totals.filesRemoved > 0 || totals.dirsRemoved > 0),
      warnings: warnings.length > 0 ? capWarnings(warnings) : undefined,
      bytesFreed: ctx.dryRun || archiveDir ? 0 : totals.bytesRemoved,
      filesModified: ctx.dryRun ? 0 : totals.filesRemoved,
      plan: ctx.dryRun ? planSteps : undefined,
      details: {
        dryRun: ctx.dryRun,
        mode: archiveDir ? 'archive' : 'delete',
        archiveDir,
        by,
        olderThan: o.older_than !== undefined ? formatDuration(o.older_than) : undefined,
        cutoff: st.rules.cutoffMs !== undefined ? new Date(st.rules.cutoffMs).toISOString() : undefined,
        maxTotalSize: o.max_total_size,
        evictionCutoff: cut && Number.isFinite(cut.time) ? new Date(cut.time).toISOString() : undefined,
        keepNewest: o.keep_newest,
        filesRemoved: totals.filesRemoved,
        bytesRemoved: totals.bytesRemoved,
        filesKept: totals.filesKept,
        bytesKept: totals.bytesKept,
        dirsRemoved: totals.dirsRemoved,
        roots: rootsOut,
        walked: { ...st.counters, fsCalls: pace.mode },
        planFile,
      },
    };
  },
});

function rootOf(selection: Selection, dir: DirVisit): string {
  let d: DirVisit = dir;
  while (d.parent) d = d.parent;
  return selection.roots.find((r) => r.dir === d.path)?.dir ?? d.path;
}

/** Thousands of failures would drown the run record: keep the first ones and a count. */
function capWarnings(w: string[]): string[] {
  if (w.length <= 50) return w;
  return [...w.slice(0, 50), `… and ${w.length - 50} more warnings`];
}
