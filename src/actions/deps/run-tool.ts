/** Runs a tool (a package manager, a linter) in its own process group, stdout and stderr kept apart. */
import { runInProcessGroup } from '../../os/process-group.js';
import type { ActionContext } from '../types.js';

export interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The program could not be started (not installed). */
  readonly spawnError?: string;
  /** Stopped by the run's signal (timeout, cancel). */
  readonly aborted: boolean;
  /** The signal that killed it, if one did. */
  readonly signal: NodeJS.Signals | null;
  readonly durationMs: number;
}

/** npm settings that keep an unreachable registry from stalling a run for minutes. */
const NPM_QUIET: Record<string, string> = {
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_fetch_retries: '1',
  npm_config_fetch_retry_mintimeout: '1000',
  npm_config_fetch_retry_maxtimeout: '5000',
};

export async function runTool(
  ctx: ActionContext,
  cwd: string,
  command: string | readonly string[],
  opts: { echo?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolRun> {
  let stdout = '';
  let stderr = '';
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  // The operator's own npm settings win over these defaults.
  for (const [k, v] of Object.entries(NPM_QUIET))
    if (env[k] === undefined && env[k.toUpperCase()] === undefined) env[k] = v;
  const r = await runInProcessGroup({
    command,
    cwd,
    env,
    signal: ctx.signal,
    killGraceMs: ctx.killGraceMs,
    clock: ctx.clock,
    onStart: (pgid) => ctx.trackProcess(pgid),
    onOutput: (t) => {
      stdout += t;
      if (opts.echo) ctx.output(t);
    },
    onStderr: (t) => {
      stderr += t;
      if (opts.echo) ctx.output(t);
    },
  });
  return {
    code: r.exitCode,
    stdout,
    stderr,
    spawnError: r.spawnError,
    aborted: r.aborted,
    signal: r.signal,
    durationMs: r.durationMs,
  };
}

export function shown(command: string | readonly string[]): string {
  return typeof command === 'string' ? command : command.join(' ');
}
