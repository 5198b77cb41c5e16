/**
 * One run of the test command and the JUnit reports it wrote: the files the globs matched before
 * it started are stamped, and only new or rewritten files are read afterwards.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { runInProcessGroup } from '../../os/process-group.js';
import type { ActionContext } from '../types.js';
import { parseJunit, type TestCase } from './junit.js';
import { freshFiles, stampFiles } from './report-files.js';

export interface TestRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly durationMs: number;
  readonly cases: TestCase[];
  readonly files: string[];
  /** Why nothing could be read (command not startable, no fresh reports); cases is then empty. */
  readonly error?: string;
  /** Report files that could not be parsed, with the reason. */
  readonly unreadable: string[];
}

export function shownCommand(command: string | readonly string[]): string {
  return typeof command === 'string' ? command : command.join(' ');
}

/** Output kept to explain a failed command: its last lines. */
const TAIL_CHARS = 2000;

function lastLines(output: string, n = 5): string {
  const lines = output.trimEnd().split('\n').slice(-n);
  return lines.map((l) => l.slice(0, 300)).join(' | ');
}

/**
 * When the command itself failed — not found (127), not executable (126), or any other non-zero
 * exit — and left no readable report, that is the news: a broken or missing report is only its
 * consequence (a shell redirect creates an empty report even when the command is not found).
 */
function commandFailure(shown: string, exitCode: number, output: string, consequence: string): string {
  const what =
    exitCode === 127
      ? `\`${shown}\` exited 127: a command was not found`
      : exitCode === 126
        ? `\`${shown}\` exited 126: a command could not be executed (not executable?)`
        : `\`${shown}\` failed (exit ${exitCode})`;
  const tail = lastLines(output);
  return `${what} and ${consequence}${tail ? `; its output ended: ${tail}` : '; it printed nothing'}`;
}

export async function runTests(
  ctx: ActionContext,
  opts: {
    command: string | readonly string[];
    cwd: string;
    env: NodeJS.ProcessEnv;
    junit: readonly string[];
  },
): Promise<TestRun> {
  const before = await stampFiles(opts.cwd, opts.junit);
  const shown = shownCommand(opts.command);
  ctx.output(`$ ${shown}\n`);
  let tail = '';
  const r = await runInProcessGroup({
    command: opts.command,
    cwd: opts.cwd,
    env: opts.env,
    signal: ctx.signal,
    killGraceMs: ctx.killGraceMs,
    clock: ctx.clock,
    onOutput: (t) => {
      ctx.output(t);
      tail = (tail + t).slice(-TAIL_CHARS);
    },
    onStart: (pgid) => ctx.trackProcess(pgid),
  });
  const base = { exitCode: r.exitCode, signal: r.signal, durationMs: r.durationMs, unreadable: [] };
  if (r.spawnError)
    return {
      ...base,
      cases: [],
      files: [],
      error: `could not start \`${shownCommand(opts.command)}\`: ${r.spawnError}`,
    };
  if (r.aborted || r.exitCode === null)
    return {
      ...base,
      cases: [],
      files: [],
      error: `\`${shownCommand(opts.command)}\` was ${r.aborted ? 'stopped' : `killed by ${r.signal ?? 'a signal'}`} before it finished`,
    };

  const { fresh, stale } = await freshFiles(opts.cwd, opts.junit, before);
  if (fresh.length === 0) {
    const globs = opts.junit.map((g) => `"${g}"`).join(', ');
    const why =
      stale.length > 0
        ? `matched only ${stale.length} report file${stale.length === 1 ? '' : 's'} left from an earlier run (${relative(opts.cwd, stale[0]!)}${stale.length > 1 ? ', …' : ''})`
        : 'matched no file';
    return {
      ...base,
      cases: [],
      files: [],
      error:
        r.exitCode !== 0
          ? commandFailure(shown, r.exitCode, tail, `wrote no JUnit report (junit ${globs} ${why})`)
          : `no JUnit report was written: junit ${globs} ${why} in ${opts.cwd} after \`${shown}\` exited ${r.exitCode}`,
    };
  }
  const cases: TestCase[] = [];
  const unreadable: string[] = [];
  for (const f of fresh) {
    const text = await readFile(f, 'utf8');
    if (text.trim() === '') {
      unreadable.push(`${relative(opts.cwd, f)}: empty`);
      continue;
    }
    const parsed = parseJunit(text);
    if (parsed.ok) cases.push(...parsed.cases);
    else unreadable.push(`${relative(opts.cwd, f)}: ${parsed.reason}`);
  }
  const files = fresh.map((f) => relative(opts.cwd, f));
  if (unreadable.length === fresh.length)
    return {
      ...base,
      cases: [],
      files,
      unreadable,
      error:
        r.exitCode !== 0
          ? commandFailure(shown, r.exitCode, tail, `left no readable JUnit report (${unreadable[0]})`)
          : `no JUnit report could be read: ${unreadable[0]}`,
    };
  return { ...base, cases, files, unreadable };
}
