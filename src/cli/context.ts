/** What every command needs: the global flags, the config path, and a way to open caretaker. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Caretaker } from '../caretaker.js';
import {
  loadedStamp,
  locateState,
  openCaretaker as open,
  validateConfig,
  type StateLocation,
} from '../caretaker-tools.js';
import { ConfigError } from '../errors/config-error.js';
import { findDaemon, type DaemonHandle } from '../server/client.js';
import { oneLine, relative } from './format.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly json?: boolean;
  readonly debug?: boolean;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: Io = {
  out: (t) => void process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => void process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

/** -c/--config, else ./caretaker.yaml when it exists, else $CARETAKER_CONFIG, else ./caretaker.yaml. */
export function configPath(opts: GlobalOptions): string {
  if (opts.config) return resolve(opts.config);
  const local = resolve('caretaker.yaml');
  if (existsSync(local)) return local;
  if (process.env.CARETAKER_CONFIG) return resolve(process.env.CARETAKER_CONFIG);
  return local;
}

/**
 * Loads the facade on demand: commands that never open it (init, --version) stay fast. Report
 * commands pass `readonly`: a user who may read the state dir but not write it can run them.
 */
export async function openCaretaker(
  opts: GlobalOptions,
  how: { readonly?: boolean } = {},
): Promise<Caretaker> {
  return open({ configPath: configPath(opts), readonly: how.readonly });
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** Where the configuration keeps its state, and the daemon running there (if one answers). */
export async function locateDaemon(
  opts: GlobalOptions,
): Promise<{ location: StateLocation; daemon: DaemonHandle | undefined }> {
  const location = locateState(configPath(opts));
  return { location, daemon: await findDaemon(location.stateDir) };
}

/**
 * A daemon answers for a configuration it loaded earlier: when the file changed since, say so —
 * and when it no longer loads, print its first problem as a warning (the daemon keeps running
 * the last good configuration; `caretaker validate` lists every problem).
 */
export async function warnIfConfigChanged(
  location: StateLocation,
  io: Io,
  json: boolean | undefined,
): Promise<string | null> {
  const stamp = loadedStamp(location.file, location.stateDir);
  if (stamp?.same) return null;
  const ago = stamp ? relative(stamp.loadedAt, Date.now()) : null;
  const since = ago === null ? '' : ago === 'now' ? ' (loaded just now)' : ` (loaded ${ago})`;
  let warning: string;
  try {
    await validateConfig(location.file);
    warning = `${location.file} changed since the daemon loaded it${since}; \`caretaker reload\` applies it`;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const n = err.issues.length;
    const first = oneLine(err.message.split('\n')[0]!.replace(`${location.file}:`, 'line '), 110);
    warning = `${location.file} has ${n === 1 ? 'an error' : `${n} errors`} (${first}${n > 1 ? '; caretaker validate lists them' : ''}); the daemon keeps running the configuration it loaded${since}`;
  }
  if (!json) io.err(`warning: ${warning}`);
  return warning;
}
