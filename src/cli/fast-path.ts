/**
 * The commands an operator and a monitoring script call most — `status` and `list-tasks` against
 * a running daemon, and `validate` before a deploy or a reload — answered without the
 * command-line parser: commander costs ~40 ms to import, as much as the rest of `status`. Only a command line the parser would read the same way is
 * taken: the command word once, and the global options (`-c <path>`, `--config <path>`,
 * `--config=<path>`, `--json`, `--debug`) each at most once, before or after it. Anything else —
 * help, an unknown flag, an argument, a value that looks like a flag — goes to the full parser,
 * which prints its own usage and errors.
 */
import type { GlobalOptions, Io } from './context.js';
import { reportFailure } from './failure.js';

const COMMANDS = {
  status: async (o: GlobalOptions, io: Io) => (await import('./commands/daemon.js')).statusCommand(o, io),
  'list-tasks': async (o: GlobalOptions, io: Io) =>
    (await import('./commands/tasks.js')).listTasksCommand(o, io),
  validate: async (o: GlobalOptions, io: Io) =>
    (await import('./commands/validate.js')).validateCommand(o, io),
} as const;

type FastCommand = keyof typeof COMMANDS;

export interface FastCall {
  readonly command: FastCommand;
  readonly opts: GlobalOptions;
}

/** The command and its options when `words` (argv after the script) is a fast-path call. */
export function fastCallOf(words: readonly string[]): FastCall | undefined {
  let command: FastCommand | undefined;
  const opts: { config?: string; json?: boolean; debug?: boolean } = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (Object.hasOwn(COMMANDS, w)) {
      if (command !== undefined) return undefined;
      command = w as FastCommand;
    } else if (w === '--json' || w === '--debug') {
      const key = w.slice(2) as 'json' | 'debug';
      if (opts[key]) return undefined;
      opts[key] = true;
    } else if (w === '-c' || w === '--config' || w.startsWith('--config=')) {
      const value = w.startsWith('--config=') ? w.slice('--config='.length) : words[++i];
      if (opts.config !== undefined || value === undefined || value === '' || value.startsWith('-'))
        return undefined;
      opts.config = value;
    } else return undefined;
  }
  return command === undefined ? undefined : { command, opts };
}

/** Runs a fast-path call; returns the exit code, as `runCli` would. Never throws. */
export async function runFast(call: FastCall, io: Io): Promise<number> {
  try {
    return await COMMANDS[call.command](call.opts, io);
  } catch (err) {
    return reportFailure(err, io, call.opts.json === true, call.opts.debug === true);
  }
}
