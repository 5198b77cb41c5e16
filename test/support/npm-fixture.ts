/**
 * The audit-deps fixture project (test/fixtures/audit-deps) installed from the real registry with
 * `npm ci` once into test/.cache, then copied into each test's temp dir.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE = resolve(import.meta.dirname, '..', 'fixtures', 'audit-deps');
const CACHE = resolve(import.meta.dirname, '..', '.cache', 'npm-audit-fixture');

/** Installs the fixture once; returns why it cannot be installed (unreachable registry) or undefined. */
export async function ensureNpmFixture(): Promise<string | undefined> {
  if (existsSync(join(CACHE, '.done'))) return undefined;
  rmSync(CACHE, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(SOURCE, f), join(CACHE, f));
  try {
    await run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: CACHE, timeout: 180_000 });
  } catch (err) {
    const why = `the npm registry cannot be reached to install the audit-deps fixture: ${(err as Error).message.split('\n')[0]}`;
    if (process.env.CI) throw new Error(why);
    return why;
  }
  writeFileSync(join(CACHE, '.done'), new Date().toISOString());
  return undefined;
}

/** A fresh copy of the installed fixture project in `dir/app`. */
export function copyNpmFixture(dir: string): string {
  const app = join(dir, 'app');
  cpSync(CACHE, app, { recursive: true, filter: (src) => !src.endsWith('.done') });
  return app;
}
