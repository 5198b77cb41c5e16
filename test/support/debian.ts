/**
 * Real configuration files shipped by Debian packages, for the importers' tests: downloaded with
 * `apt-get download` and unpacked with `dpkg-deb -x` into test/.cache/debian/<package>/ once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DEBIAN_CACHE = resolve(import.meta.dirname, '..', '.cache', 'debian');
const UNAVAILABLE = join(DEBIAN_CACHE, 'UNAVAILABLE');

/** Packages that carry an /etc/cron.d file or an /etc/logrotate.d file. */
export const DEBIAN_PACKAGES = [
  'anacron',
  'certbot',
  'e2fsprogs',
  'mdadm',
  'php-common',
  'sysstat',
  'logrotate',
  'rsyslog',
  'nginx-common',
  'apt',
  'dpkg',
  // more /etc/logrotate.d files for the logrotate importer: su, postrotate scripts, odd globs
  'apache2',
  'fail2ban',
  'postgresql-common',
  'unattended-upgrades',
  'ufw',
  'redis-server',
  'exim4-base',
];

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: 'pipe', timeout: 300_000 });
}

/** Downloads and unpacks what is missing. Throws under CI when it cannot; records why otherwise. */
export function ensureDebianPackages(packages = DEBIAN_PACKAGES): void {
  const missing = packages.filter((p) => !existsSync(join(DEBIAN_CACHE, p, '.done')));
  if (missing.length === 0) return;
  const work = join(DEBIAN_CACHE, '.download');
  mkdirSync(work, { recursive: true });
  try {
    const download = () => run('apt-get', ['download', '-o', 'APT::Sandbox::User=root', ...missing], work);
    try {
      download();
    } catch {
      run('apt-get', ['update', '-qq'], work); // fresh machines have no package lists yet
      download();
    }
    for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb'))) {
      const pkg = deb.split('_')[0]!;
      const dest = join(DEBIAN_CACHE, pkg);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest, { recursive: true });
      run('dpkg-deb', ['-x', join(work, deb), dest], work);
      writeFileSync(join(dest, '.done'), deb);
    }
    rmSync(work, { recursive: true, force: true });
    rmSync(UNAVAILABLE, { force: true });
  } catch (err) {
    const why = `Debian packages could not be fetched: ${(err as Error).message.split('\n')[0]}`;
    if (process.env.CI) throw new Error(why);
    writeFileSync(UNAVAILABLE, why);
  }
}

/** Why the Debian fixtures are missing, or undefined when they are there. */
export function debianUnavailable(): string | undefined {
  return existsSync(UNAVAILABLE) ? readFileSync(UNAVAILABLE, 'utf8') : undefined;
}

/** Files under `sub` (e.g. etc/cron.d) of every fetched package: [package, absolute path]. */
export function debianFiles(sub: string): [string, string][] {
  const out: [string, string][] = [];
  if (!existsSync(DEBIAN_CACHE)) return out;
  for (const pkg of readdirSync(DEBIAN_CACHE)) {
    const dir = join(DEBIAN_CACHE, pkg, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (!f.startsWith('.')) out.push([pkg, join(dir, f)]);
  }
  return out.sort();
}
