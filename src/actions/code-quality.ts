/**
 * `code-quality`: the formatter, linter and type checker of a repository, each read in its own
 * report format, with issues counted by tool, severity and file. With `fix: true` the tools' fix
 * commands run inside a rollback point; the fixes are kept only if the checks do not get worse
 * and `verify` (the tests) passes, and the files and lines changed come from `git diff --numstat`
 * between snapshots of the work tree taken before and after.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { applyFixes, type FixOutcome } from './code-quality/apply-fixes.js';
import { issuesOf, runChecks, type ComplexityOptions } from './code-quality/checks.js';
import {
  countIssues,
  plural,
  severityRank,
  SEVERITIES,
  type Issue,
  type Severity,
} from './code-quality/issues.js';
import type { CheckReport } from './code-quality/run-check.js';
import { resolveTool, shown } from './code-quality/tools.js';
import { defineAction } from './types.js';
import { codeQualityDeclaration } from './code-quality/declaration.js';

const MAX_LISTED = 200;

function byTool(reports: readonly CheckReport[]): Record<string, number> {
  return Object.fromEntries(reports.filter((r) => r.issues !== null).map((r) => [r.tool, r.issues!.length]));
}

function describeCounts(reports: readonly CheckReport[]): string {
  const parts = reports
    .filter((r) => r.issues !== null)
    .map((r) => {
      const c = countIssues(r.issues!);
      const sev = [...SEVERITIES]
        .reverse()
        .filter((s) => c.bySeverity[s] > 0)
        .map((s) => `${c.bySeverity[s]} ${s}${c.bySeverity[s] === 1 ? '' : 's'}`);
      if (sev.length <= 1) return `${r.tool} ${sev[0] ?? '0'}`;
      return `${r.tool} ${c.total} (${sev.join(', ')})`;
    });
  return parts.join(', ');
}

function describeFix(fix: FixOutcome, found: number, remaining: number): string {
  const files = `${fix.changes.length} file${fix.changes.length === 1 ? '' : 's'} +${fix.linesAdded} -${fix.linesRemoved}`;
  if (!fix.kept) return `fixes rolled back: ${fix.rolledBackBecause}`;
  if (fix.changes.length === 0) return 'the fixers changed nothing';
  return `fixed ${Math.max(0, found - remaining)} (${files})${fix.verify ? ', verify passed' : ', unverified'}`;
}

export const codeQualityAction = defineAction({
  ...codeQualityDeclaration,
  async run(ctx, o) {
    const cwd = ctx.resolvePath(o.cwd ?? '.');
    if (!(await stat(cwd).catch(() => null))?.isDirectory())
      return { ok: false, summary: `cwd ${cwd} is not a directory`, changed: false };
    const tools = (o.tools ?? []).map(resolveTool);
    const complexity: ComplexityOptions | undefined =
      o.max_complexity === undefined
        ? undefined
        : { limit: o.max_complexity, paths: o.complexity_paths, ignore: o.complexity_ignore };
    const failOn = o.fail_on ?? 'error';

    // The check commands only read (the presets do; a tool's own `command` must), so a dry run runs
    // them too: the plan can then say what the fixes would be applied to.
    const before = await runChecks(ctx, cwd, tools, complexity);
    const found = issuesOf(before.reports);
    const broken = before.reports.filter((r) => r.issues === null);
    const fixers = tools.filter(
      (t) => t.fixCommand && (before.reports.find((r) => r.tool === t.name)?.issues?.length ?? 0) > 0,
    );
    const plan: string[] = [];
    const warnings: string[] = [];
    const problems: string[] = broken.map((r) => r.error!);
    let fix: FixOutcome | null = null;
    let after: readonly CheckReport[] = before.reports;

    if (o.fix && fixers.length > 0 && ctx.dryRun) {
      plan.push(`take a rollback point of the files git sees under ${cwd}`);
      for (const t of fixers)
        plan.push(
          `run \`${shown(t.fixCommand!)}\` (${t.name}: ${plural(byTool(before.reports)[t.name] ?? 0, 'issue')})`,
        );
      plan.push(`re-run the checks${o.verify ? ` and \`${shown(o.verify)}\`` : ''}`);
      plan.push(
        `keep the fixes only if ${o.verify ? 'it exits 0 and ' : ''}the issues do not grow; otherwise restore the files`,
      );
    } else if (o.fix && fixers.length > 0) {
      const working = tools.filter((t) => before.reports.find((r) => r.tool === t.name)?.issues !== null);
      try {
        fix = await applyFixes(ctx, cwd, fixers, o.verify, found.length, async () => {
          const round = await runChecks(ctx, cwd, working, complexity);
          return round.reports;
        });
      } catch (err) {
        problems.push(`the fixes could not be applied: ${(err as Error).message}`);
      }
      if (fix?.kept && fix.after) after = [...fix.after, ...broken];
      if (fix && !fix.kept) warnings.push(`fixes rolled back: ${fix.rolledBackBecause}`);
      if (fix && fix.notRestored.length > 0)
        problems.push(`the rollback left these files different from before: ${fix.notRestored.join(', ')}`);
      if (fix?.kept && fix.changes.length > 0 && !fix.verify)
        warnings.push('fixes were kept without verification (no verify command)');
    } else if (ctx.dryRun && o.fix) plan.push('nothing to fix: no tool with a fix command reported issues');

    const remaining = issuesOf(after);
    const counts = countIssues(remaining);
    const failing =
      failOn === 'never'
        ? []
        : remaining.filter((i) => severityRank(i.severity) >= severityRank(failOn as Severity));
    const lesser = remaining.length - failing.length;
    // What went wrong besides the issues themselves (tools, fixes): the summary names the first.
    const trouble = problems[0];
    for (const line of problems.slice(broken.length)) ctx.output(`${line}\n`);
    if (failing.length > 0)
      problems.push(`${failing.length} issue${failing.length === 1 ? '' : 's'} at or above ${failOn}`);
    if (lesser > 0 && failOn !== 'never') {
      const by = byTool(
        after.map((r) => ({ ...r, issues: r.issues?.filter((i) => !failing.includes(i)) ?? null })),
      );
      const where = Object.entries(by)
        .filter(([, n]) => n > 0)
        .map(([t, n]) => `${t} ${n}`);
      warnings.push(
        `${lesser} issue${lesser === 1 ? '' : 's'} below ${failOn} remain${lesser === 1 ? 's' : ''} (${where.join(', ')})`,
      );
    }
    const fixed = fix?.kept ? Math.max(0, found.length - remaining.length) : 0;

    const parts = [
      `${found.length} issue${found.length === 1 ? '' : 's'}${found.length > 0 ? ` (${describeCounts(before.reports)})` : ''}`,
    ];
    if (fix) parts.push(describeFix(fix, found.length, remaining.length));
    if (fix?.kept && fix.changes.length > 0) parts.push(`${remaining.length} left`);
    if (broken.length > 0) parts.push(`${broken.length} tool${broken.length === 1 ? '' : 's'} could not run`);
    if (ctx.dryRun && plan.length > 0) parts.push(`would fix with ${fixers.map((t) => t.name).join(', ')}`);
    for (const line of warnings) ctx.output(`${line}\n`);
    const listed: Issue[] = remaining.slice(0, MAX_LISTED);
    return {
      ok: problems.length === 0,
      summary: `${parts.join('; ')}${trouble ? ` — ${trouble}` : ''}`,
      changed: fix?.kept === true && fix.changes.length > 0,
      warnings: warnings.length > 0 ? warnings : undefined,
      issuesFound: found.length,
      issuesFixed: fixed,
      filesModified: fix?.kept ? fix.changes.length : 0,
      plan: ctx.dryRun ? plan : undefined,
      findings: listed.map((i) => ({
        severity: i.severity === 'info' ? ('notice' as const) : i.severity,
        ...(i.file !== null ? { file: join(cwd, i.file) } : {}),
        line: i.line,
        column: i.column,
        title: i.rule ? `${i.tool} ${i.rule}` : i.tool,
        message: i.message,
      })),
      details: {
        cwd,
        failOn,
        tools: before.reports.map((r) => ({
          name: r.tool,
          command: r.command,
          exitCode: r.exitCode,
          durationMs: r.durationMs,
          error: r.error ?? null,
          found: r.issues?.length ?? null,
          remaining: after.find((a) => a.tool === r.tool)?.issues?.length ?? null,
          ...(r.issues ? countIssues(r.issues) : {}),
        })),
        remaining: counts,
        issues: listed,
        issuesNotListed: remaining.length - listed.length,
        complexity: before.complexity
          ? {
              limit: before.complexity.limit,
              files: before.complexity.files,
              functions: before.complexity.functions,
              over: before.complexity.over.slice(0, MAX_LISTED),
            }
          : null,
        fix: fix && {
          kept: fix.kept,
          rolledBackBecause: fix.rolledBackBecause,
          point: fix.point,
          ran: fix.ran,
          verify: fix.verify,
          files: fix.changes.slice(0, MAX_LISTED),
          filesChanged: fix.changes.length,
          linesAdded: fix.linesAdded,
          linesRemoved: fix.linesRemoved,
          notRestored: fix.notRestored,
        },
      },
      samples: [
        { key: 'issues_found', value: found.length, better: 'lower' },
        { key: 'issues_remaining', value: remaining.length, better: 'lower' },
        { key: 'issues_fixed', value: fixed, better: 'higher' },
        { key: 'files_modified', value: fix?.kept ? fix.changes.length : 0 },
        { key: 'lines_changed', value: fix?.kept ? fix.linesAdded + fix.linesRemoved : 0 },
        ...after
          .filter((r) => r.issues !== null)
          .map((r) => ({ key: `issues:${r.tool}`, value: r.issues!.length, better: 'lower' as const })),
      ],
    };
  },
});
