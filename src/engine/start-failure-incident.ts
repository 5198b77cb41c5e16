/**
 * The open start-failure incident, kept between start attempts in a small file (the store may be
 * what fails): in the state dir, or the temp dir when the state dir cannot be written. Light on
 * purpose: a daemon that started closes it without loading the alerting code.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DEFAULT_STATE_DIR } from '../config/state-paths.js';
import { writeFileAtomicSync } from '../os/atomic-write.js';

/** The open start-failure incident, as kept between attempts. */
export interface StartFailureIncident {
  readonly openedAt: number;
  readonly lastNotifiedAt: number | null;
  readonly occurrences: number;
  readonly message: string;
}

const INCIDENT_FILE = 'start-failure-incident.json';

/** Where the incident may be: the state dir first, else the temp dir (keyed by the config file). */
export function incidentFiles(configPath: string, stateDir: string | undefined): string[] {
  const key = createHash('sha256').update(resolve(configPath)).digest('hex').slice(0, 16);
  const files = [resolve(tmpdir(), `caretaker-${key}-${INCIDENT_FILE}`)];
  if (stateDir) files.unshift(resolve(stateDir, INCIDENT_FILE));
  return files;
}

export function stateDirOf(configPath: string, raw: Record<string, unknown> | undefined): string {
  const dir = dirname(resolve(configPath));
  const state = typeof raw?.state_dir === 'string' ? raw.state_dir : DEFAULT_STATE_DIR;
  return isAbsolute(state) ? state : resolve(dir, state);
}

export function readIncident(files: readonly string[]): StartFailureIncident | undefined {
  for (const f of files) {
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as StartFailureIncident;
    } catch {
      // absent or unreadable: look at the next place
    }
  }
  return undefined;
}

export function writeIncident(files: readonly string[], incident: StartFailureIncident): void {
  for (const f of files) {
    try {
      writeFileAtomicSync(f, `${JSON.stringify(incident, null, 2)}\n`);
      // Only one copy: a stale one elsewhere would outlive the incident.
      for (const other of files) if (other !== f) rmSync(other, { force: true });
      return;
    } catch {
      // the state dir cannot be written (maybe why caretaker cannot start): try the next place
    }
  }
}

/** caretaker started: the start-failure incident, if one was open, is over. */
export function closeStartFailure(configPath: string, stateDir: string): boolean {
  const files = incidentFiles(configPath, stateDir);
  const open = readIncident(files) !== undefined;
  for (const f of files) rmSync(f, { force: true });
  return open;
}
