/**
 * `audit-deps`: outdated packages and security advisories of a project, from `npm outdated`,
 * `npm audit` and `pip list --outdated`, in one typed result. A registry that cannot be reached is
 * a warning with the reason, not a crash. With `update: patch|minor` it updates npm dependencies
 * inside a rollback point, runs the project's tests, and rolls back when they fail.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { detectManagers } from './deps/detect-managers.js';
import {
  severityRank,
  type Advisory,
  type Manager,
  type OutdatedPackage,
  type Severity,
} from './deps/dep-types.js';
import { parseNpmAudit, parseNpmOutdated } from './deps/npm-reports.js';
import { applyUpdates, planUpdates, type UpdateOutcome } from './deps/npm-update.js';
import {
  normalizePipName,
  parsePipInstalled,
  parsePipOutdated,
  pipIndexTrouble,
} from './deps/pip-reports.js';
import { runTool, shown } from './deps/run-tool.js';
import { advisoryStatement } from './deps/advisory-summary.js';
import { defineAction, type ActionContext } from './types.js';
import { auditDepsDeclaration } from './audit-deps/declaration.js';
import type { schema } from './audit-deps/schema.js';

type Options = z.output<typeof schema>;

interface Findings {
  packages: OutdatedPackage[];
  advisories: Advisory[];
  missing: string[];
  warnings: string[];
  managers: Manager[];
  /** Managers whose advisories could not be fetched (so "no advisories" would be a lie). */
  unchecked: Manager[];
}

async function auditNpm(ctx: ActionContext, cwd: string, o: Options, f: Findings): Promise<void> {
  // Both only read; running them side by side halves the time spent waiting on the registry.
  const [outdated, audit] = await Promise.all([
    o.outdated !== false || o.update ? runTool(ctx, cwd, ['npm', 'outdated', '--json']) : null,
    runTool(ctx, cwd, ['npm', 'audit', '--json']),
  ]);
  if (audit.spawnError) {
    f.warnings.push(`npm is not available: ${audit.spawnError}`);
    return;
  }
  if (outdated) {
    const parsed = parseNpmOutdated(outdated.stdout, outdated.stderr);
    if (parsed.ok) f.packages.push(...parsed.value);
    else f.warnings.push(`npm outdated could not check the registry: ${parsed.reason}`);
  }
  const parsed = parseNpmAudit(audit.stdout || audit.stderr);
  if (parsed.ok) f.advisories.push(...parsed.value);
  else {
    f.unchecked.push('npm');
    f.warnings.push(`npm audit could not get advisories: ${parsed.reason}`);
  }
  for (const name of o.required ?? []) {
    try {
      await readFile(join(cwd, 'node_modules', name, 'package.json'));
    } catch {
      f.missing.push(`npm:${name}`);
    }
  }
}

async function auditPip(ctx: ActionContext, cwd: string, o: Options, f: Findings): Promise<void> {
  const python = o.python ?? 'python3';
  const base = [python, '-m', 'pip', 'list', '--format=json', '--disable-pip-version-check'];
  const paths = (o.pip_path ?? []).flatMap((p) => ['--path', ctx.resolvePath(p)]);
  const probe = await runTool(ctx, cwd, [python, '-m', 'pip', '--version']);
  if (probe.code !== 0) {
    f.warnings.push(
      `${python} -m pip is not available (${probe.spawnError ?? probe.stderr.trim().split('\n').pop()}); pip was not audited`,
    );
    return;
  }
  if (o.outdated !== false) {
    const r = await runTool(ctx, cwd, [...base, '--outdated', '--retries', '1', '--timeout', '15', ...paths]);
    const trouble = pipIndexTrouble(r.stderr);
    const parsed = parsePipOutdated(r.stdout);
    if (parsed.ok) f.packages.push(...parsed.value);
    if (trouble || !parsed.ok)
      f.warnings.push(
        `pip could not check the package index: ${trouble ?? (parsed.ok ? '' : parsed.reason)}`,
      );
  }
  if (o.required && o.required.length > 0) {
    const r = await runTool(ctx, cwd, [...base, ...paths]);
    const installed = parsePipInstalled(r.stdout);
    if (!installed.ok) f.warnings.push(installed.reason);
    else
      for (const name of o.required)
        if (!installed.value.has(normalizePipName(name))) f.missing.push(`pip:${name}`);
  }
}

function count<T extends string>(items: readonly T[]): Partial<Record<T, number>> {
  const out: Partial<Record<T, number>> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}

export const auditDepsAction = defineAction({
  ...auditDepsDeclaration,
  async run(ctx, o) {
    const cwd = ctx.resolvePath(o.cwd ?? '.');
    const f: Findings = {
      packages: [],
      advisories: [],
      missing: [],
      warnings: [],
      managers: detectManagers(o, cwd, 'package.json'),
      unchecked: [],
    };
    if (f.managers.length === 0) {
      return {
        ok: false,
        summary: `no package.json or Python project in ${cwd}; set manager: npm or pip`,
        changed: false,
      };
    }
    if (f.managers.includes('npm')) await auditNpm(ctx, cwd, o, f);
    if (f.managers.includes('pip')) await auditPip(ctx, cwd, o, f);

    const threshold: Severity = o.severity ?? 'high';
    const failing = f.advisories.filter((a) => severityRank(a.severity) >= severityRank(threshold));
    const levels = count(f.packages.map((p) => p.level));
    const severities = count(f.advisories.map((a) => a.severity));

    let update: UpdateOutcome | null = null;
    const plan: string[] = [];
    if (o.update && f.managers.includes('npm')) {
      const { planned, skipped } = await planUpdates(ctx, cwd, f.packages, o.update);
      const test = o.test_command ?? 'npm test';
      if (ctx.dryRun || planned.length === 0) {
        for (const p of planned)
          plan.push(`update ${p.name} ${p.from} -> ${p.to} (${o.update}) with npm install ${p.spec}`);
        if (planned.length > 0)
          plan.push(
            `run \`${shown(test)}\` in ${cwd}; roll package.json and the lockfile back and reinstall if it fails`,
          );
        update = {
          planned,
          skipped,
          kept: false,
          point: null,
          rolledBackBecause: null,
          reinstalled: null,
          testExitCode: null,
        };
      } else {
        update = { planned, skipped, ...(await applyUpdates(ctx, cwd, planned, test, o.update)) };
      }
      for (const s of skipped) f.warnings.push(`${s.name} was not updated: ${s.why}`);
    } else if (o.update)
      f.warnings.push('update applies to npm dependencies only; pip packages were not updated');

    const problems: string[] = [];
    for (const a of failing)
      problems.push(
        `${a.severity} advisory in ${a.package}${a.range ? ` ${a.range}` : ''}: ${a.title}${a.url ? ` (${a.url})` : ''}`,
      );
    for (const m of f.missing) problems.push(`required package ${m.replace(':', ' ')} is not installed`);
    if (update && !ctx.dryRun && update.planned.length > 0 && !update.kept) {
      const restored = update.reinstalled
        ? 'package.json, the lockfile and node_modules are back as they were'
        : 'package.json and the lockfile were restored, but reinstalling did not bring node_modules back: run npm ci';
      (update.reinstalled ? f.warnings : problems).push(
        `the ${o.update} update was rolled back: ${update.rolledBackBecause}; ${restored}`,
      );
    }

    const parts: string[] = [];
    if (o.outdated !== false)
      parts.push(
        `${f.packages.length} outdated (${levels.major ?? 0} major, ${levels.minor ?? 0} minor, ${levels.patch ?? 0} patch)`,
      );
    parts.push(
      advisoryStatement({
        managers: f.managers,
        unchecked: f.unchecked,
        advisories: f.advisories,
        severities,
        failing: failing.length,
        threshold,
      }),
    );
    if (update && update.planned.length > 0)
      parts.push(
        ctx.dryRun
          ? `would update ${update.planned.length}`
          : update.kept
            ? `updated ${update.planned.length} (${o.update}), tests passed`
            : `${o.update} update rolled back`,
      );
    else if (update) parts.push(`nothing to update within ${o.update}`);
    for (const line of [...problems, ...f.warnings]) ctx.output(`${line}\n`);
    return {
      ok: problems.length === 0,
      summary: `${f.managers.join(' + ')}: ${parts.join('; ')}${problems.length > 0 ? ` — ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}` : ''}`,
      changed: update?.kept === true && update.planned.length > 0,
      warnings: f.warnings.length > 0 ? f.warnings : undefined,
      issuesFound: f.advisories.length + f.missing.length,
      issuesFixed: update?.kept ? update.planned.length : 0,
      plan: ctx.dryRun ? plan : undefined,
      details: {
        managers: f.managers,
        packages: f.packages,
        advisories: f.advisories,
        outdated: {
          major: levels.major ?? 0,
          minor: levels.minor ?? 0,
          patch: levels.patch ?? 0,
          other: levels.other ?? 0,
        },
        severities,
        threshold,
        missing: f.missing,
        update,
      },
    };
  },
});
