/**
 * Every package installed under a project's `node_modules`, transitive ones included: nested
 * `node_modules`, `@scope/name` directories and symlinked packages (workspaces), each real
 * directory read once. The tree on disk is the truth; a lockfile is only consulted for `dev` flags.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstalledPackage } from './installed-package.js';
import { licenseFromPackageJson } from './license-text.js';

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function packageDirs(nodeModules: string, rel: string): Promise<{ dir: string; rel: string }[]> {
  let entries: string[];
  try {
    entries = await readdir(nodeModules);
  } catch {
    return [];
  }
  const out: { dir: string; rel: string }[] = [];
  for (const e of entries.sort()) {
    // .bin, .package-lock.json, .cache, pnpm's .pnpm store: not packages.
    if (e.startsWith('.')) continue;
    if (e.startsWith('@')) {
      for (const s of (await readdir(join(nodeModules, e)).catch(() => [] as string[])).sort())
        if (!s.startsWith('.')) out.push({ dir: join(nodeModules, e, s), rel: `${rel}/${e}/${s}` });
    } else out.push({ dir: join(nodeModules, e), rel: `${rel}/${e}` });
  }
  return out;
}

/** The packages under `<cwd>/node_modules`, in path order. */
export async function readNpmTree(
  cwd: string,
): Promise<{ packages: InstalledPackage[]; warnings: string[] }> {
  const packages: InstalledPackage[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  const visit = async (nodeModules: string, rel: string): Promise<void> => {
    for (const p of await packageDirs(nodeModules, rel)) {
      if (!(await isDir(p.dir))) continue;
      const real = await realpath(p.dir).catch(() => p.dir);
      if (seen.has(real)) continue;
      seen.add(real);
      let pkg: Record<string, unknown>;
      try {
        pkg = JSON.parse(await readFile(join(real, 'package.json'), 'utf8')) as Record<string, unknown>;
      } catch {
        warnings.push(`${p.rel} has no readable package.json; skipped`);
        continue;
      }
      const name = typeof pkg.name === 'string' ? pkg.name : p.rel.replace(/^.*node_modules\//, '');
      packages.push({
        manager: 'npm',
        name,
        version: typeof pkg.version === 'string' ? pkg.version : '0.0.0',
        path: p.rel.slice(1),
        license: licenseFromPackageJson(pkg),
      });
      await visit(join(real, 'node_modules'), `${p.rel}/node_modules`);
    }
  };
  await visit(join(cwd, 'node_modules'), '/node_modules');
  return { packages, warnings };
}

/**
 * Lockfile paths (`node_modules/a/node_modules/b`) npm marked `dev: true`, from package-lock.json
 * or npm's hidden `node_modules/.package-lock.json` (lockfileVersion 2+). null: neither has them.
 */
export async function devPaths(cwd: string): Promise<Set<string> | null> {
  for (const f of [join(cwd, 'package-lock.json'), join(cwd, 'node_modules', '.package-lock.json')]) {
    try {
      const lock = JSON.parse(await readFile(f, 'utf8')) as { packages?: Record<string, { dev?: boolean }> };
      if (!lock.packages) continue;
      return new Set(
        Object.entries(lock.packages)
          .filter(([, v]) => v.dev === true)
          .map(([k]) => k),
      );
    } catch {
      // missing or unreadable: try the next
    }
  }
  return null;
}
