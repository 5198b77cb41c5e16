/** Runs the built CLI with every module it loads recorded (test/fixtures/module-trace). */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BIN } from './cli.js';

export const TRACE = resolve(import.meta.dirname, '..', 'fixtures', 'module-trace', 'trace-modules.mjs');
const ROOT = resolve(import.meta.dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const CLI = join(DIST, 'cli');

/**
 * A trace's lines with each file of the bundled CLI (dist/cli/main.js and dist/cli/chunks/,
 * scripts/bundle-cli.mjs)
 * replaced by the modules it holds, named where tsc builds them (`.../dist/cli/main.js`) or where
 * they sit in node_modules: what a process loaded reads the same with or without the bundle.
 */
export function unbundled(loaded: readonly string[]): string[] {
  const map = join(CLI, 'chunks', 'sources.json');
  if (!existsSync(map)) return [...loaded];
  const sources = JSON.parse(readFileSync(map, 'utf8')) as Record<string, string[]>;
  const prefix = `file://${CLI}/`;
  return loaded.flatMap((f) => {
    const inputs = f.startsWith(prefix) ? sources[f.slice(prefix.length)] : undefined;
    if (!inputs) {
      if (f.startsWith(`${prefix}chunks/`))
        throw new Error(`${f} is not in ${map}: rebuild with npm run build`);
      return [f];
    }
    return inputs.map((i) => `file://${i.startsWith('node_modules/') ? join(ROOT, i) : join(DIST, i)}`);
  });
}

/**
 * The CLI's output and what it loaded: `own` files of dist/ (relative, sorted, each once), npm
 * `packages` and node `builtins`.
 */
export function tracedCli(args: string[], cwd: string) {
  const out = join(cwd, 'modules.txt');
  writeFileSync(out, '');
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, ...args], {
    cwd,
    env: { ...process.env, CARETAKER_CONFIG: '', CARETAKER_TRACE_FILE: out },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const loaded = unbundled(readFileSync(out, 'utf8').split('\n').filter(Boolean));
  const own = [
    ...new Set(
      loaded
        .map((f) => f.replace(/^file:\/\//, ''))
        .filter((f) => f.startsWith(`${DIST}/`))
        .map((f) => f.slice(DIST.length + 1)),
    ),
  ].sort();
  const packages = new Set(
    loaded.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.slice(1, 2) ?? []),
  );
  return { ...r, own, packages, builtins: new Set(loaded.filter((f) => f.startsWith('node:'))) };
}
