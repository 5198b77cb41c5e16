#!/usr/bin/env node
import { VERSION } from '../version.js';
import { enableCompileCache, flushCompileCache } from './compile-cache.js';

// First, so that every module loaded below (all of them are loaded lazily) can come from the cache,
// and, with --debug, be mapped back to the sources in a stack trace (node maps only the files it
// loads after the switch).
enableCompileCache();
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);

/**
 * Resolves once everything written to `stream` so far has reached the OS. A pipe whose reader is
 * slower than we are holds the rest in Node's buffer: exiting before it drains cut piped output
 * at 64 KiB (`caretaker history --json | jq` lost the end, with exit 0).
 */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || !stream.writable) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}

// A reader that goes away (`caretaker history | head`) is not an error of ours: stop quietly.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });

// A daemon that is PID 1 (a container without an init) must reap orphans; a false match on the
// word (`run-task start`) only costs one /bin/sh in front of a short command.
if (process.pid === 1 && process.argv.slice(2).includes('start'))
  (await import('../caretaker-tools.js')).reapOrphansAsPid1();
// `caretaker --version` alone is answered before the parser and the commands load: it is what
// scripts and package managers call to probe the tool, and it should cost no more than node's start.
// `status`, `list-tasks` and `validate` with only global options skip the parser too (cli/fast-path.ts).
const words = process.argv.slice(2);
const code =
  words.length === 1 && (words[0] === '--version' || words[0] === '-V')
    ? (process.stdout.write(`${VERSION}\n`), 0)
    : await runCommand(words);

async function runCommand(words: readonly string[]): Promise<number> {
  const fast = await import('./fast-path.js');
  const call = fast.fastCallOf(words);
  if (call) return fast.runFast(call, (await import('./context.js')).stdio);
  return (await import('./program.js')).runCli(process.argv);
}
await Promise.all([drained(process.stdout), drained(process.stderr)]);
flushCompileCache();
// The only place that ends the process: open handles (a log stream, a socket) must not keep a
// finished command alive.
process.exit(code);
