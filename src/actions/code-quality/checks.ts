/** All the checks of one run, in order: each tool's check command, then the complexity scan. */
import { plural } from '../../core/plural.js';
import type { ActionContext } from '../types.js';
import type { ComplexReport } from './complexity.js';
import type { Issue } from './issues.js';
import { runCheck, type CheckReport } from './run-check.js';
import type { ToolSpec } from './tools.js';

export interface ComplexityOptions {
  readonly limit: number;
  readonly paths?: readonly string[];
  readonly ignore?: readonly string[];
}

export interface CheckRound {
  readonly reports: CheckReport[];
  readonly complexity: (ComplexReport & { limit: number }) | null;
}

export async function runChecks(
  ctx: ActionContext,
  cwd: string,
  tools: readonly ToolSpec[],
  complexity: ComplexityOptions | undefined,
): Promise<CheckRound> {
  const reports: CheckReport[] = [];
  for (const [i, t] of tools.entries()) {
    ctx.progress({ done: i, total: tools.length + (complexity ? 1 : 0), unit: 'items', label: t.name });
    const r = await runCheck(ctx, cwd, t);
    reports.push(r);
    ctx.output(
      r.issues === null
        ? `${r.error}\n`
        : `${t.name}: ${r.issues.length} issue${r.issues.length === 1 ? '' : 's'} (\`${r.command}\`, exit ${r.exitCode}, ${(r.durationMs / 1000).toFixed(1)}s)\n`,
    );
  }
  if (!complexity) return { reports, complexity: null };
  const started = ctx.clock.now();
  // The TypeScript compiler takes ~0.5-2 s to load: only when complexity is asked for, never at config load.
  const { findComplexFunctions } = await import('./complexity.js');
  const found = await findComplexFunctions(
    cwd,
    complexity.limit,
    complexity.paths,
    complexity.ignore,
    ctx.signal,
  );
  const issues: Issue[] = found.over.map((f) => ({
    tool: 'complexity',
    severity: 'warning',
    file: f.file,
    line: f.line,
    rule: 'max_complexity',
    message: `${f.name} has a cyclomatic complexity of ${f.complexity} (limit ${complexity.limit})`,
  }));
  reports.push({
    tool: 'complexity',
    command: `max_complexity ${complexity.limit}`,
    exitCode: null,
    durationMs: ctx.clock.now() - started,
    issues,
  });
  ctx.output(
    `complexity: ${issues.length} of ${plural(found.functions, 'function')} in ${plural(found.files, 'file')} over ${complexity.limit}\n`,
  );
  return { reports, complexity: { ...found, limit: complexity.limit } };
}

export const issuesOf = (reports: readonly CheckReport[]): Issue[] => reports.flatMap((r) => r.issues ?? []);
