/** Runs the PostgreSQL tools: own process group (killed as a group), output kept without passwords. */
import { runInProcessGroup } from '../os/process-group.js';
import type { Clock } from '../core/clock.js';
import { scrub, type PgSource, type ToolRunner } from './postgres.js';

export interface ToolRunnerOptions {
  readonly cwd: string;
  readonly signal: AbortSignal;
  readonly killGraceMs: number;
  readonly clock: Clock;
  /** Receives each tool's output, already scrubbed. */
  readonly onOutput?: (text: string) => void;
}

export function toolRunner(o: ToolRunnerOptions, secrets: readonly PgSource[]): ToolRunner {
  return async (command, env) => {
    let output = '';
    const r = await runInProcessGroup({
      command,
      cwd: o.cwd,
      env: { ...process.env, ...env },
      signal: o.signal,
      killGraceMs: o.killGraceMs,
      clock: o.clock,
      onOutput: (t) => {
        output += t;
        if (output.length > 64 * 1024) output = output.slice(-32 * 1024);
      },
    });
    let clean = output;
    for (const s of secrets) clean = scrub(clean, s);
    if (clean.trim()) o.onOutput?.(clean);
    return { exitCode: r.exitCode, output: clean, spawnError: r.spawnError };
  };
}
