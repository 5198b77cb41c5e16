/**
 * `update: patch|minor` for npm: pick the newest version within the level for each outdated
 * direct dependency, install them inside a rollback point of package.json and the lockfile, run
 * the project's tests, and roll back (then reinstall from the restored lockfile) when they fail.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionContext } from '../types.js';
import type { OutdatedPackage } from './dep-types.js';
import { runTool, shown } from './run-tool.js';
import { pickTarget } from './versions.js';

const SECTIONS = ['dependencies', 'devDependencies', 'optionalDependencies'] as const;

export interface PlannedUpdate {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  /** What is passed to npm install, keeping the declared range style (^, ~ or exact). */
  readonly spec: string;
  readonly exact: boolean;
}

export interface UpdateOutcome {
  readonly planned: readonly PlannedUpdate[];
  /** Outdated packages left alone, and why. */
  readonly skipped: readonly { name: string; why: string }[];
  readonly kept: boolean;
  readonly point: string | null;
  /** Why the update was rolled back. */
  readonly rolledBackBecause: string | null;
  /** After a rollback: did reinstalling from the restored lockfile bring back every version? */
  readonly reinstalled: boolean | null;
  readonly testExitCode: number | null;
}

async function declared(cwd: string): Promise<Map<string, string>> {
  const pkg = JSON.parse(await readFile(join(cwd, 'package.json'), 'utf8')) as Record<string, unknown>;
  const out = new Map<string, string>();
  for (const s of SECTIONS) {
    const deps = pkg[s];
    if (typeof deps === 'object' && deps !== null)
      for (const [k, v] of Object.entries(deps)) if (typeof v === 'string') out.set(k, v);
  }
  return out;
}

async function versionsOf(ctx: ActionContext, cwd: string, name: string): Promise<string[] | string> {
  const r = await runTool(ctx, cwd, ['npm', 'view', name, 'versions', '--json']);
  try {
    const v = JSON.parse(r.stdout) as unknown;
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    if (typeof v === 'string') return [v];
  } catch {
    // fall through
  }
  return `npm view ${name} failed: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? `exit ${r.code}`}`;
}

export async function planUpdates(
  ctx: ActionContext,
  cwd: string,
  outdated: readonly OutdatedPackage[],
  level: 'patch' | 'minor',
): Promise<{ planned: PlannedUpdate[]; skipped: { name: string; why: string }[] }> {
  const specs = await declared(cwd);
  const planned: PlannedUpdate[] = [];
  const skipped: { name: string; why: string }[] = [];
  const candidates: { p: OutdatedPackage & { current: string }; prefix: string }[] = [];
  for (const p of outdated) {
    if (p.manager !== 'npm') continue;
    const spec = specs.get(p.name);
    if (spec === undefined) continue; // a transitive dependency: its parent's update brings it
    if (p.current === null) {
      skipped.push({ name: p.name, why: 'not installed' });
      continue;
    }
    const style = /^([~^]?)\d/.exec(spec);
    if (!style) {
      skipped.push({
        name: p.name,
        why: `declared as "${spec}", which is not a version range caretaker updates`,
      });
      continue;
    }
    candidates.push({ p: { ...p, current: p.current }, prefix: style[1]! });
  }
  // One registry request per package; they do not depend on each other.
  const versions = await Promise.all(candidates.map((c) => versionsOf(ctx, cwd, c.p.name)));
  for (const [i, { p, prefix }] of candidates.entries()) {
    const v = versions[i]!;
    if (typeof v === 'string') {
      skipped.push({ name: p.name, why: v });
      continue;
    }
    const to = pickTarget(v, p.current, level);
    if (!to) continue; // nothing newer within the level (only a bigger update exists)
    planned.push({
      name: p.name,
      from: p.current,
      to,
      spec: `${p.name}@${prefix}${to}`,
      exact: prefix === '',
    });
  }
  return { planned, skipped };
}

async function installedVersion(cwd: string, name: string): Promise<string | null> {
  try {
    return (
      JSON.parse(await readFile(join(cwd, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return null;
  }
}

export async function applyUpdates(
  ctx: ActionContext,
  cwd: string,
  planned: readonly PlannedUpdate[],
  testCommand: string | readonly string[],
  level: string,
): Promise<Omit<UpdateOutcome, 'planned' | 'skipped'>> {
  const files = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'].map((f) => join(cwd, f));
  const guarded = await ctx.withRollbackPoint(
    files,
    async () => {
      const groups = [planned.filter((p) => !p.exact), planned.filter((p) => p.exact)];
      for (const [i, group] of groups.entries()) {
        if (group.length === 0) continue;
        const argv = [
          'npm',
          'install',
          '--no-audit',
          '--no-fund',
          ...(i === 1 ? ['--save-exact'] : []),
          ...group.map((p) => p.spec),
        ];
        ctx.output(`$ ${argv.join(' ')}\n`);
        const r = await runTool(ctx, cwd, argv, { echo: true });
        if (r.code !== 0)
          return {
            installed: false,
            why: `npm install failed (${r.spawnError ?? `exit ${r.code}`})`,
            test: null,
          };
      }
      ctx.output(`$ ${shown(testCommand)}\n`);
      const t = await runTool(ctx, cwd, testCommand, { echo: true });
      return t.code === 0
        ? { installed: true, why: null, test: 0 }
        : {
            installed: true,
            why: `the tests failed after the update (\`${shown(testCommand)}\`: ${t.spawnError ?? `exit ${t.code}`})`,
            test: t.code,
          };
    },
    {
      keep: (v) => v.installed && v.why === null,
      label: `audit-deps ${level} update of ${planned.length} package${planned.length === 1 ? '' : 's'}`,
    },
  );
  if (guarded.kept)
    return { kept: true, point: guarded.point, rolledBackBecause: null, reinstalled: null, testExitCode: 0 };

  // package.json and the lockfile are back; node_modules must follow them.
  const ci = existsSync(join(cwd, 'package-lock.json')) || existsSync(join(cwd, 'npm-shrinkwrap.json'));
  const argv = ci ? ['npm', 'ci', '--no-audit', '--no-fund'] : ['npm', 'install', '--no-audit', '--no-fund'];
  ctx.output(`$ ${argv.join(' ')}\n`);
  const r = await runTool(ctx, cwd, argv, { echo: true });
  let reinstalled = r.code === 0;
  for (const p of planned) if ((await installedVersion(cwd, p.name)) !== p.from) reinstalled = false;
  return {
    kept: false,
    point: guarded.point,
    rolledBackBecause: guarded.value.why,
    reinstalled,
    testExitCode: guarded.value.test,
  };
}
