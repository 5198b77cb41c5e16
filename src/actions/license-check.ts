/**
 * `license-check`: the licences of installed dependencies (npm's node_modules, transitive ones
 * included; Python's site-packages) against `allow`/`deny` lists of SPDX ids, with SPDX
 * expressions evaluated (`MIT OR GPL-3.0-only` passes when MIT is allowed). A licence that is not
 * declared or not SPDX is reported, never silently allowed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { detectManagers } from './deps/detect-managers.js';
import { runTool } from './deps/run-tool.js';
import { evaluate, type Policy } from './license-check/evaluate.js';
import type { InstalledPackage } from './license-check/installed-package.js';
import { devPaths, readNpmTree } from './license-check/npm-tree.js';
import { readSitePackages } from './license-check/pip-metadata.js';
import { defineAction, type ActionContext } from './types.js';
import { licenseCheckDeclaration } from './license-check/declaration.js';

const MAX_LISTED = 500;

/** site-packages directories of `python` (sys.path entries that hold installed distributions). */
async function pythonSitePackages(
  ctx: ActionContext,
  cwd: string,
  python: string,
): Promise<string[] | string> {
  const r = await runTool(ctx, cwd, [python, '-c', 'import sys,json;print(json.dumps(sys.path))']);
  if (r.spawnError)
    return `${python} is not installed (${r.spawnError}); install Python 3 or set python: or pip_path:`;
  if (r.code !== 0)
    return `${python} could not list its sys.path: ${r.stderr.trim().split('\n').pop() ?? ''}`;
  try {
    const paths = JSON.parse(r.stdout) as unknown;
    if (!Array.isArray(paths)) throw new Error('not a list');
    return paths.filter((p): p is string => typeof p === 'string' && /[/\\](site|dist)-packages$/.test(p));
  } catch {
    return `${python} printed an unreadable sys.path`;
  }
}

const id = (p: InstalledPackage) => `${p.name}@${p.version}`;

export const licenseCheckAction = defineAction({
  ...licenseCheckDeclaration,
  async run(ctx, o) {
    const started = performance.now();
    const cwd = ctx.resolvePath(o.cwd ?? '.');
    const managers = detectManagers(o, cwd, 'node_modules');
    if (managers.length === 0)
      return { ok: false, summary: `no node_modules or Python project in ${cwd}; set manager: npm or pip` };
    const warnings: string[] = [];
    const problems: string[] = [];
    let packages: InstalledPackage[] = [];
    let devSkipped = 0;
    if (managers.includes('npm')) {
      if (!existsSync(join(cwd, 'node_modules')))
        problems.push(`${join(cwd, 'node_modules')} does not exist: run npm install (or npm ci) first`);
      const tree = await readNpmTree(cwd);
      warnings.push(...tree.warnings);
      let npm = tree.packages;
      if (o.dev === false) {
        const dev = await devPaths(cwd);
        if (dev) {
          npm = npm.filter((p) => !dev.has(p.path));
          devSkipped = tree.packages.length - npm.length;
        } else
          warnings.push(
            'dev: false needs package-lock.json (lockfileVersion 2+) to tell dev packages apart; all were checked',
          );
      }
      packages.push(...npm);
    }
    if (managers.includes('pip')) {
      const dirs = o.pip_path
        ? o.pip_path.map((p) => ctx.resolvePath(p))
        : await pythonSitePackages(ctx, cwd, o.python ?? 'python3');
      if (typeof dirs === 'string') problems.push(dirs);
      else packages.push(...(await readSitePackages(dirs)));
    }
    const ignore = new Set(o.ignore ?? []);
    const ignored = packages.filter((p) => ignore.has(p.name) || ignore.has(id(p)));
    packages = packages.filter((p) => !ignored.includes(p));

    const policy: Policy = { allow: o.allow, deny: o.deny };
    const violations: { package: string; license: string; path: string; reason: string }[] = [];
    const unknown: { package: string; license: string | null; path: string; reason: string }[] = [];
    const byLicense: Record<string, number> = {};
    for (const p of packages) {
      const key = p.license.kind === 'spdx' ? p.license.expression : 'unknown';
      byLicense[key] = (byLicense[key] ?? 0) + 1;
      if (p.license.kind === 'unknown') {
        unknown.push({ package: id(p), license: p.license.raw, path: p.path, reason: p.license.why });
        continue;
      }
      const v = evaluate(p.license.tree, policy);
      if (!v.ok)
        violations.push({ package: id(p), license: p.license.expression, path: p.path, reason: v.reason });
    }
    const lines = [
      ...violations.map((v) => `${v.package}: ${v.license} — ${v.reason} (${v.path})`),
      ...unknown.map((u) => `${u.package}: unknown licence — ${u.reason} (${u.path})`),
    ];
    for (const l of [...problems, ...lines]) ctx.output(`${l}\n`);
    if (o.unknown === 'warn')
      for (const u of unknown.slice(0, 20)) warnings.push(`${u.package}: unknown licence — ${u.reason}`);
    const failing = [
      ...problems,
      ...violations.map((v) => v.package),
      ...(o.unknown === 'warn' ? [] : unknown),
    ];
    const ms = Math.round(performance.now() - started);
    const head = `${managers.join(' + ')}: ${packages.length} packages${ignored.length ? ` (+${ignored.length} ignored)` : ''}${devSkipped ? ` (${devSkipped} dev skipped)` : ''}, ${violations.length} violations, ${unknown.length} unknown`;
    return {
      ok: failing.length === 0,
      summary:
        problems.length > 0 ? `${head} — ${problems[0]}` : lines.length > 0 ? `${head} — ${lines[0]}` : head,
      changed: false,
      issuesFound: violations.length + unknown.length,
      warnings: warnings.length > 0 ? warnings : undefined,
      plan: ctx.dryRun
        ? [`read the licences of ${packages.length} installed packages (reading only)`]
        : undefined,
      details: {
        managers,
        packages: packages.length,
        byLicense: Object.fromEntries(Object.entries(byLicense).sort((a, b) => b[1] - a[1])),
        violations: violations.slice(0, MAX_LISTED),
        unknown: unknown.slice(0, MAX_LISTED),
        ignored: ignored.map(id),
        devSkipped,
        ms,
      },
      // No file: a package's directory is not part of the change a CI annotation points at.
      findings: [
        ...violations.map((v) => ({
          severity: 'error' as const,
          title: 'licence',
          message: `${v.package}: ${v.license} — ${v.reason}`,
        })),
        ...unknown.map((u) => ({
          severity: o.unknown === 'warn' ? ('warning' as const) : ('error' as const),
          title: 'licence',
          message: `${u.package}: unknown licence — ${u.reason}`,
        })),
      ].slice(0, MAX_LISTED),
      samples: [
        { key: 'licenses:packages', value: packages.length },
        { key: 'licenses:violations', value: violations.length, better: 'lower' },
        { key: 'licenses:unknown', value: unknown.length, better: 'lower' },
      ],
    };
  },
});
