/**
 * An error turned into one clear line and an exit code (0 ok, 1 a task or check failed, 2 bad
 * usage or configuration), without the parser: shared by the full command line (program.ts) and
 * the fast path (fast-path.ts), so both answer the same error the same way.
 */
import { ConfigError, formatIssue } from '../errors/config-error.js';
import type { Io } from './context.js';

/**
 * The exit code an error carries (every error a user can see has one: 2 bad usage or
 * configuration, 1 a failed task or check); undefined for an internal error.
 */
function exitCodeOf(err: unknown): number | undefined {
  const code = (err as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code < 126 ? code : undefined;
}

/** With --json an error is one JSON object on stderr, so that a script can read it. */
export function failWith(io: Io, json: boolean) {
  return (exitCode: number, error: string, extra: Record<string, unknown> = {}): number => {
    if (json) io.err(JSON.stringify({ error, exitCode, ...extra }));
    else io.err(`caretaker: ${error}`);
    return exitCode;
  };
}

/** Prints an error a command threw (not the parser's) and returns its exit code. */
export function reportFailure(err: unknown, io: Io, json: boolean, debug: boolean): number {
  const fail = failWith(io, json);
  if (err instanceof ConfigError) {
    if (json) return fail(2, err.issues.map(formatIssue).join('\n'), { issues: err.issues });
    for (const issue of err.issues) io.err(formatIssue(issue));
    if (err.issues.length > 1) io.err(`${err.issues.length} problems found`);
    return 2;
  }
  const e = err as Error | undefined;
  const exitCode = exitCodeOf(err);
  if (exitCode !== undefined) return fail(exitCode, e?.message ?? String(err));
  const message = `internal error: ${e?.message ?? String(err)}`;
  if (json) return fail(1, message, debug && e?.stack ? { stack: e.stack } : {});
  io.err(`caretaker: ${message}${debug ? '' : ' (run with --debug for details)'}`);
  if (debug && e?.stack) io.err(e.stack);
  return 1;
}
