/** What every command needs: the global flags, the config path, and a way to open caretaker. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Caretaker } from '../caretaker.js';

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

/** Loads the facade on demand: commands that never open it (init, --version) stay fast. */
export async function openCaretaker(opts: GlobalOptions): Promise<Caretaker> {
  const { createCaretaker } = await import('../caretaker.js');
  return createCaretaker({ configPath: configPath(opts) });
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
