/**
 * Who holds a state dir's lock (`daemon.json`, written by the holder): the pid, the control
 * socket. Plain file reads, so finding a running daemon loads no database driver.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface HolderInfo {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: number;
  readonly version: string;
  readonly config: string;
  /** The control socket of a daemon (absent for an embedded scheduler). */
  readonly socket?: string;
  readonly http?: string;
}

export function holderFile(stateDir: string): string {
  return resolve(stateDir, 'daemon.json');
}

export function readHolder(stateDir: string): HolderInfo | undefined {
  try {
    return JSON.parse(readFileSync(holderFile(stateDir), 'utf8')) as HolderInfo;
  } catch {
    return undefined;
  }
}
