/**
 * `caretaker validate`: the file loaded and checked (a ConfigError with every problem when it is
 * not valid), then what validate-config reports for other files — the environment variables it
 * names (presence and length only) and what changed since a running scheduler loaded it.
 */
import { builtinRegistry } from '../actions/builtin.js';
import { driftCount, driftLines, type KeyDrift } from '../schema/config-files/config-drift.js';
import { loadConfigFileWithData } from './load.js';
import { driftSinceLoaded, envReferences, type EnvReference } from './own-config-check.js';

export interface ValidationReport {
  readonly file: string;
  readonly tasks: number;
  readonly scheduled: number;
  readonly env: readonly EnvReference[];
  /** Changes since a scheduler last loaded the file (null when none recorded it). */
  readonly changedSinceLoaded:
    | (KeyDrift & {
        readonly loadedAt: number;
        readonly count: number;
        /** One line per changed key, secrets masked. */
        readonly lines: readonly string[];
      })
    | null;
}

export async function validateConfigFile(file: string): Promise<ValidationReport> {
  // The data as read serves the env check too: the file is read and parsed once.
  const { config, data } = await loadConfigFileWithData(file, { registry: builtinRegistry() });
  const since = await driftSinceLoaded(config.file, config.stateDir);
  return {
    file: config.file,
    tasks: config.tasks.length,
    scheduled: config.tasks.filter((t) => t.schedule && t.enabled).length,
    env: envReferences(data),
    changedSinceLoaded: since && {
      loadedAt: since.loadedAt,
      count: driftCount(since.drift),
      lines: driftLines(since.drift),
      ...since.drift,
    },
  };
}
