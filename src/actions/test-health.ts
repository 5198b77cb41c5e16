/**
 * `test-health`: runs a project's tests, reads the JUnit XML and coverage summaries they wrote, and
 * returns counts, the slowest tests, coverage per metric against `min_coverage`, and flaky tests —
 * those that failed and passed on the same code, found by a rerun of the failures or across runs
 * in this task's history.
 */
import { plural } from '../core/plural.js';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { formatDuration } from '../core/duration.js';
import type { SampleInput } from '../core/sample.js';
import { codeState } from './test-health/code-state.js';
import { checkCoverage, type CoverageOutcome, type Thresholds } from './test-health/coverage-check.js';
import { METRICS } from './test-health/coverage.js';
import { findFlaky, makeRecord, recordOf, type FlakyTest } from './test-health/flaky.js';
import type { TestCase } from './test-health/junit.js';
import { ensureBases, stampFiles } from './test-health/report-files.js';
import { rerunCommand } from './test-health/rerun.js';
import { runTests, shownCommand } from './test-health/run-tests.js';
import { defineAction, type ActionContext } from './types.js';
import { testHealthDeclaration } from './test-health/declaration.js';
import type { schema } from './test-health/schema.js';

/** Past runs searched for flaky tests. */
const HISTORY_RUNS = 20;

type Options = z.output<typeof schema>;

function thresholdsOf(o: Options): Thresholds {
  if (o.min_coverage === undefined) return {};
  if (typeof o.min_coverage === 'number') return { lines: o.min_coverage };
  return o.min_coverage;
}

const isFailure = (t: TestCase) => t.status === 'failed' || t.status === 'error';

async function rerunFailures(
  ctx: ActionContext,
  o: Options,
  run: { cwd: string; env: NodeJS.ProcessEnv },
  failed: readonly TestCase[],
): Promise<{ passed: Set<string>; note: string | null }> {
  const cmd = o.rerun_command ? rerunCommand(o.rerun_command, failed) : o.command;
  const again = await runTests(ctx, { command: cmd, ...run, junit: o.junit });
  if (again.error) return { passed: new Set(), note: `the rerun gave no results: ${again.error}` };
  const status = new Map(again.cases.map((t) => [t.id, t.status]));
  const passed = new Set(failed.filter((t) => status.get(t.id) === 'passed').map((t) => t.id));
  const missing = failed.filter((t) => !status.has(t.id)).length;
  return {
    passed,
    note: missing > 0 ? `${plural(missing, 'failing test')} did not run again and count as broken` : null,
  };
}

export const testHealthAction = defineAction({
  ...testHealthDeclaration,
  async run(ctx, o) {
    const cwd = ctx.resolvePath(o.cwd ?? '.');
    const thresholds = thresholdsOf(o);
    const shown = shownCommand(o.command);
    if (ctx.dryRun) {
      const plan = [
        `run \`${shown}\` in ${cwd}`,
        `read the JUnit reports it writes (${o.junit.join(', ')}); files older than the run are ignored`,
      ];
      if (o.coverage)
        plan.push(
          `read coverage from ${o.coverage.join(', ')}${
            Object.keys(thresholds).length > 0
              ? ` and check ${Object.entries(thresholds)
                  .map(([m, v]) => `${m} >= ${v}%`)
                  .join(', ')}`
              : ''
          }`,
        );
      if (o.rerun_failed)
        plan.push(
          `rerun failing tests once with \`${o.rerun_command ? shownCommand(o.rerun_command) : shown}\``,
        );
      return { ok: true, summary: `would run: ${shown}`, changed: false, plan };
    }

    const env = { ...process.env, ...o.env, CARETAKER_TASK: ctx.taskId, CARETAKER_RUN_ID: String(ctx.runId) };
    const code = await codeState(ctx, cwd);
    const coverageBefore = o.coverage ? await stampFiles(cwd, o.coverage) : new Map<string, string>();
    await ensureBases(cwd, o.junit);
    const first = await runTests(ctx, { command: o.command, cwd, env, junit: o.junit });
    if (first.error)
      return {
        ok: false,
        summary: first.error,
        exitCode: first.exitCode,
        changed: false,
        details: { commit: code.commit },
      };

    const cases = first.cases;
    const failed = cases.filter(isFailure);
    const skipped = cases.filter((t) => t.status === 'skipped').length;
    const warnings = first.unreadable.map((u) => `JUnit report not read: ${u}`);
    const problems: string[] = [];

    // Before any rerun: a rerun of the failures alone would rewrite the coverage of a subset.
    let coverage: CoverageOutcome | null = null;
    if (o.coverage) {
      coverage = await checkCoverage(cwd, o.coverage, coverageBefore, thresholds);
      warnings.push(...coverage.warnings);
      problems.push(...coverage.shortfalls);
    }

    let rerun: Awaited<ReturnType<typeof rerunFailures>> | null = null;
    if (o.rerun_failed && failed.length > 0) {
      rerun = await rerunFailures(ctx, o, { cwd, env }, failed);
      if (rerun.note) warnings.push(rerun.note);
    }

    const passedIds = cases.filter((t) => t.status === 'passed').map((t) => t.id);
    const record = makeRecord(
      code,
      failed.map((t) => t.id),
      [...passedIds, ...(rerun?.passed ?? [])],
    );
    const past = (await ctx.history.recent(HISTORY_RUNS)).flatMap((r) => {
      const rec = recordOf(r);
      return rec ? [{ runId: r.id, record: rec }] : [];
    });
    const flaky: FlakyTest[] = findFlaky({ runId: ctx.runId, record }, past);
    // Outside git the history cannot tell, but a rerun on the spot still can.
    for (const id of rerun?.passed ?? [])
      if (!flaky.some((f) => f.id === id)) flaky.push({ id, failedIn: [ctx.runId], passedIn: [ctx.runId] });
    const flakyIds = new Set(flaky.map((f) => f.id));
    const broken = failed.filter((t) => !flakyIds.has(t.id));

    problems.unshift(
      ...broken.map(
        (t) => `${t.id} ${t.status === 'error' ? 'errored' : 'failed'}${t.message ? `: ${t.message}` : ''}`,
      ),
    );
    if (first.exitCode !== 0 && failed.length === 0)
      problems.push(`\`${shown}\` exited ${first.exitCode} though its reports list no failing test`);
    for (const f of flaky)
      warnings.push(
        `flaky: ${f.id} (failed in run ${f.failedIn.map((r) => `#${r}`).join(', ')}, passed in ${f.passedIn.map((r) => `#${r}`).join(', ')}${rerun?.passed.has(f.id) ? ', on the rerun' : ''})`,
      );

    const slowest = [...cases]
      .filter((t) => t.timeMs !== undefined)
      .sort((a, b) => b.timeMs! - a.timeMs!)
      .slice(0, o.slowest ?? 10)
      .map((t) => ({ id: t.id, ms: t.timeMs! }));
    const passed = cases.length - failed.length - skipped;
    const parts = [
      `${plural(cases.length, 'test')}: ${passed} passed, ${failed.length} failed, ${skipped} skipped in ${formatDuration(first.durationMs)}`,
    ];
    if (failed.length > 0 && broken.length < failed.length)
      parts.push(`${broken.length} broken, ${failed.length - broken.length} flaky`);
    else if (flaky.length > 0) parts.push(plural(flaky.length, 'flaky test'));
    if (coverage && coverage.format)
      parts.push(
        METRICS.filter((m) => coverage.metrics[m])
          .map((m) => {
            const r = coverage.metrics[m]!;
            return `${m} ${r.pct}%${r.min !== null ? ` (min ${r.min}%)` : ''}`;
          })
          .join(', '),
      );

    const samples: SampleInput[] = [
      { key: 'tests', value: cases.length },
      { key: 'failures', value: failed.length, better: 'lower' },
      { key: 'broken', value: broken.length, better: 'lower' },
      { key: 'flaky', value: flaky.length, better: 'lower' },
      { key: 'skipped', value: skipped, better: 'lower' },
      { key: 'duration_ms', value: Math.round(first.durationMs), unit: 'ms', better: 'lower' },
    ];
    for (const m of METRICS) {
      const r = coverage?.metrics[m];
      if (r) samples.push({ key: `coverage:${m}`, value: r.pct, unit: '%', better: 'higher' });
    }
    for (const line of [...problems, ...warnings]) ctx.output(`${line}\n`);
    return {
      ok: problems.length === 0,
      summary: `${parts.join('; ')}${problems.length > 0 ? ` — ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}` : ''}`,
      changed: false,
      exitCode: first.exitCode,
      warnings: warnings.length > 0 ? warnings : undefined,
      issuesFound: failed.length + (coverage?.shortfalls.length ?? 0),
      issuesFixed: 0,
      samples,
      findings: failed.slice(0, 200).map((t) => ({
        severity: flakyIds.has(t.id) ? ('warning' as const) : ('error' as const),
        ...(t.file ? { file: resolve(cwd, t.file) } : {}),
        title: flakyIds.has(t.id) ? 'flaky test' : 'failing test',
        message: `${t.id}${t.message ? `: ${t.message}` : ''}`,
      })),
      details: {
        commit: code.commit,
        reports: first.files,
        tests: cases.length,
        passed,
        failures: failed.length,
        errors: failed.filter((t) => t.status === 'error').length,
        skipped,
        durationMs: Math.round(first.durationMs),
        failed: failed.slice(0, 50).map((t) => ({
          id: t.id,
          status: t.status,
          message: t.message ?? null,
          verdict: flakyIds.has(t.id) ? 'flaky' : 'broken',
        })),
        broken: broken.length,
        flaky,
        rerun: rerun ? { passed: [...rerun.passed], stillFailing: failed.length - rerun.passed.size } : null,
        slowest,
        coverage: coverage
          ? {
              format: coverage.format,
              files: coverage.files,
              ignored: coverage.ignored,
              metrics: coverage.metrics,
            }
          : null,
        record,
      },
    };
  },
});
