/**
 * Helpers for the rotate-logs tests: run the action directly (a real ActionContext on real files),
 * run the real logrotate on a twin directory, and read a directory back with .gz files
 * decompressed, so that the two can be compared name by name and byte by byte.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RunTriggerKind } from '../../src/actions/types.js';
import { runAction, type ActionRun } from './run-action.js';
import { rotateLogsAction } from '../../src/actions/rotate-logs.js';
import type { Clock } from '../../src/core/clock.js';

export const LOGROTATE = '/usr/sbin/logrotate';

/** Why logrotate comparisons cannot run here, or undefined. Under CI its absence is a failure. */
export function logrotateMissing(): string | undefined {
  const found = existsSync(LOGROTATE) || spawnSync('sh', ['-c', 'command -v logrotate']).status === 0;
  if (found) return undefined;
  const why = 'logrotate is not installed (apt-get install -y logrotate)';
  if (process.env.CI) throw new Error(`${why}: required under CI`);
  console.warn(`SKIPPED logrotate comparisons: ${why}`);
  return why;
}

export interface RotateOptions {
  readonly trigger?: RunTriggerKind;
  readonly dryRun?: boolean;
  readonly clock?: Clock;
  readonly stateDir?: string;
  readonly taskId?: string;
  readonly signal?: AbortSignal;
}

/** Runs rotate-logs with `with:` options as a user writes them, relative paths from `dir`. */
export function runRotate(dir: string, options: unknown, o: RotateOptions = {}): Promise<ActionRun> {
  return runAction(rotateLogsAction, options, {
    ...o,
    baseDir: dir,
    taskId: o.taskId ?? 'rotate',
    trigger: o.trigger ?? 'manual',
  });
}

/** Runs `logrotate -f` with this configuration text on its own state file. */
export function runLogrotate(work: string, conf: string): void {
  const confPath = join(work, 'logrotate.conf');
  writeFileSync(confPath, conf);
  const r = spawnSync(LOGROTATE, ['-f', '-s', join(work, 'logrotate.state'), confPath], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`logrotate failed (${r.status}): ${r.stderr}`);
}

/** Every file under `dir` (relative name -> content, .gz decompressed), hidden files included. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isSymbolicLink()) out[relative(dir, p)] = `-> link`;
      else {
        const raw = readFileSync(p);
        out[relative(dir, p)] = name.endsWith('.gz') ? gunzipSync(raw).toString() : raw.toString();
      }
    }
  };
  walk(dir);
  return out;
}

/** Checks with the real gzip that a file decompresses (exit status 0 of gzip -t). */
export function gzipTestOk(path: string): boolean {
  try {
    execFileSync('gzip', ['-t', path], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
