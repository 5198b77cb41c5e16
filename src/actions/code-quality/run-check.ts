/** Runs one tool's check (or fix) command in its own process group and reads what it reported. */
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { runTool } from '../deps/run-tool.js';
import type { ActionContext } from '../types.js';
import type { Issue } from './issues.js';
import { parseOutput } from './parsers.js';
import { pathWithLocalBins, shown, type Command, type ToolSpec } from './tools.js';

export interface CommandRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** Why the command did not run or finish: not installed, not found by the shell, killed. */
  readonly failure?: string;
}

export async function runCommand(
  ctx: ActionContext,
  cwd: string,
  command: Command,
  opts: { echo?: boolean } = {},
): Promise<CommandRun> {
  const r = await runTool(ctx, cwd, command, {
    echo: opts.echo,
    env: { PATH: pathWithLocalBins(cwd), FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  const { stdout, stderr } = r;
  const program = typeof command === 'string' ? command : command[0]!;
  let failure: string | undefined;
  if (r.spawnError) failure = `${program} is not installed or not on PATH (${r.spawnError})`;
  else if (r.aborted) failure = `\`${shown(command)}\` was stopped (timeout or cancel)`;
  else if (r.signal) failure = `\`${shown(command)}\` was killed by ${r.signal}`;
  // 127 is the shell's "command not found"; 126 "found but not executable".
  else if (typeof command === 'string' && (r.code === 127 || r.code === 126))
    failure = `\`${command}\` could not run: ${stderr.trim().split('\n').pop() ?? `exit ${r.code}`}`;
  return { exitCode: r.code, stdout, stderr, durationMs: r.durationMs, failure };
}

export interface CheckReport {
  readonly tool: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly durationMs: number;
  /** The issues found, or null when the tool could not run or its output was no report. */
  readonly issues: Issue[] | null;
  /** One line saying why `issues` is null. */
  readonly error?: string;
}

export async function runCheck(ctx: ActionContext, cwd: string, tool: ToolSpec): Promise<CheckReport> {
  const reportFile = tool.outputFile ? resolve(cwd, tool.outputFile) : undefined;
  // A report left from an earlier run must not pass for this one's.
  if (reportFile) await rm(reportFile, { force: true });
  const run = await runCommand(ctx, cwd, tool.command);
  const base = {
    tool: tool.name,
    command: shown(tool.command),
    exitCode: run.exitCode,
    durationMs: run.durationMs,
  };
  if (run.failure) {
    const how =
      run.failure.includes('not installed') && tool.install ? `; install it with: ${tool.install}` : '';
    return { ...base, issues: null, error: `${tool.name}: ${run.failure}${how}` };
  }
  let report: string | undefined;
  if (reportFile) {
    try {
      report = await readFile(reportFile, 'utf8');
    } catch {
      return {
        ...base,
        issues: null,
        error: `${tool.name}: no report at ${tool.outputFile} (exit ${run.exitCode})`,
      };
    }
  }
  const parsed = parseOutput(tool.format, tool.name, run, cwd, report);
  if (!parsed.ok) {
    const hint =
      /command not found|not found/i.test(parsed.reason) && tool.install
        ? `; install it with: ${tool.install}`
        : '';
    return { ...base, issues: null, error: `${tool.name} could not check ${cwd}: ${parsed.reason}${hint}` };
  }
  return { ...base, issues: parsed.issues };
}
