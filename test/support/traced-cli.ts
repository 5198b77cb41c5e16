/** Runs the built CLI with every module it loads recorded (test/fixtures/module-trace). */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BIN } from './cli.js';

const TRACE = resolve(import.meta.dirname, '..', 'fixtures', 'module-trace', 'trace-modules.mjs');
const DIST = resolve(import.meta.dirname, '..', '..', 'dist');

/**
 * The CLI's output and what it loaded: `own` files of dist/ (relative, sorted), npm `packages`
 * and node `builtins`.
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
  const loaded = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  const own = loaded
    .map((f) => f.replace(/^file:\/\//, ''))
    .filter((f) => f.startsWith(`${DIST}/`))
    .map((f) => f.slice(DIST.length + 1))
    .sort();
  const packages = new Set(
    loaded.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.slice(1, 2) ?? []),
  );
  return { ...r, own, packages, builtins: new Set(loaded.filter((f) => f.startsWith('node:'))) };
}
