/** Which package managers a project uses: as configured, or (`auto`) from the files in its directory. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type PackageManager = 'npm' | 'pip';

const PYTHON_MARKERS = ['requirements.txt', 'pyproject.toml', 'setup.py', 'Pipfile'];

export function detectManagers(
  o: { manager?: 'auto' | PackageManager | readonly PackageManager[]; pip_path?: readonly string[] },
  cwd: string,
  /** The file that says "npm project": package.json to audit it, node_modules to read what is installed. */
  npmMarker: 'package.json' | 'node_modules',
): PackageManager[] {
  if (Array.isArray(o.manager)) return [...new Set(o.manager as readonly PackageManager[])];
  if (o.manager === 'npm' || o.manager === 'pip') return [o.manager];
  const out: PackageManager[] = [];
  if (existsSync(join(cwd, npmMarker))) out.push('npm');
  if (o.pip_path || PYTHON_MARKERS.some((f) => existsSync(join(cwd, f)))) out.push('pip');
  return out;
}
