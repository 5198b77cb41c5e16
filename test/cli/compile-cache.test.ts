/**
 * The CLI's compile cache (src/cli/compile-cache.ts): where it goes, that a second run reads it,
 * and that a directory it cannot use never stops a command. Node 20 has no compile cache, so the
 * runs use a Node ≥ 22.1 binary when one is installed (.ci/run installs Node 22 there).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCacheDir, enableCompileCache } from '../../src/cli/compile-cache.js';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

// Where .ci/run installs it.
const NODE22 = join(
  process.env.XDG_CACHE_HOME || join(homedir(), '.cache'),
  'caretaker-ci',
  'node22',
  'node_modules',
  '.bin',
  'node',
);
const DEMO = resolve(import.meta.dirname, '..', '..', 'examples', 'demo', 'caretaker.yaml');
const hasNode22 = existsSync(NODE22);
if (!hasNode22) console.log(`compile-cache runs skipped: no Node 22 at ${NODE22} (.ci/run installs it)`);

function validate(env: NodeJS.ProcessEnv) {
  return spawnSync(NODE22, [BIN, 'validate', '-c', DEMO], {
    env: { ...process.env, CARETAKER_CONFIG: '', NODE_COMPILE_CACHE: '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('the CLI compile cache', () => {
  it('goes under $XDG_CACHE_HOME/caretaker, else a per-user dir in the temp dir, never elsewhere', () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: '/home/u/.cache' })).toBe(
      '/home/u/.cache/caretaker/compile-cache',
    );
    // A relative XDG_CACHE_HOME is invalid by the XDG spec: ignored.
    const fallback = compileCacheDir({ XDG_CACHE_HOME: 'rel' });
    expect(fallback).toBe(join(tmpdir(), `caretaker-compile-cache-${process.getuid?.() ?? 'user'}`));
    expect(compileCacheDir({})).toBe(fallback);
  });

  it('is off when NODE_DISABLE_COMPILE_CACHE is set, whatever the Node', () => {
    expect(enableCompileCache({ NODE_DISABLE_COMPILE_CACHE: '1' })).toBeUndefined();
  });

  it.runIf(hasNode22)('is written by the first run and read by the next (Node 22)', () => {
    const xdg = tempDir('ct-ccache-');
    const first = validate({ XDG_CACHE_HOME: xdg });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const cache = join(xdg, 'caretaker', 'compile-cache');
    const written = filesUnder(cache);
    // One entry per compiled module: the bundle's chunks (or dist/'s files) that validate loads.
    expect(written.length).toBeGreaterThan(10);
    const second = spawnSync(NODE22, [BIN, 'validate', '-c', DEMO], {
      env: { ...process.env, CARETAKER_CONFIG: '', XDG_CACHE_HOME: xdg, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    // Node's own trace says which modules came from the cache.
    expect(second.stderr).toMatch(/cache for .* was accepted/);
  });

  it.runIf(hasNode22)('never stops a command: a cache path under a file, under /proc, or not ours', () => {
    const dir = tempDir('ct-ccache-');
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    // Under /proc Node's own recursive mkdir never returns: we make the directory ourselves.
    for (const xdg of [file, '/proc/caretaker-nonexistent']) {
      const r = validate({ XDG_CACHE_HOME: xdg });
      expect(r.error).toBeUndefined();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/is valid: 17 tasks/);
    }
    // A directory someone else made where ours would be is not used.
    const foreign = join(dir, 'xdg', 'caretaker', 'compile-cache');
    mkdirSync(foreign, { recursive: true });
    if (process.getuid?.() === 0) {
      chownSync(foreign, 65534, 65534);
      const r = validate({ XDG_CACHE_HOME: join(dir, 'xdg') });
      expect(r.status).toBe(0);
      expect(filesUnder(foreign)).toEqual([]);
    } else console.log('the foreign-owner case needs root to chown: skipped');
  });
});
