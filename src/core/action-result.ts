/**
 * What an action returns, as the store keeps it and the reports read it: shared by every layer
 * above the core, so it lives here and depends on nothing.
 */
import type { SampleInput } from './sample.js';

/** How far an action is (a progress bar on a terminal, the dashboard later). */
export interface Progress {
  /** Units done so far. */
  readonly done: number;
  /** Units in all, when known. */
  readonly total?: number;
  readonly unit: 'bytes' | 'files' | 'items' | 'rows' | 'keys';
  /** What is being worked on now, e.g. a file name. */
  readonly label?: string;
}

/** An alert an action raises beyond its run status (scan-logs' thresholds). */
export interface ActionAlert {
  readonly event: 'threshold';
  /** Stable per condition (a pattern name): one incident per key, closed when no longer reported. */
  readonly key: string;
  readonly message: string;
}

export interface ActionResult {
  /** false fails the run (as does throwing). */
  readonly ok: boolean;
  /** One line for humans: what happened. */
  readonly summary: string;
  /** Did the action change anything? */
  readonly changed?: boolean;
  /** Non-fatal findings: a run with warnings ends as `warning`, not `success`. */
  readonly warnings?: readonly string[];
  readonly exitCode?: number | null;
  readonly bytesFreed?: number;
  readonly filesModified?: number;
  readonly issuesFound?: number;
  readonly issuesFixed?: number;
  /** In a dry run: every step that would be taken, in order. */
  readonly plan?: readonly string[];
  /** Action-specific, JSON-serialisable facts. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Measured values to keep as samples (trends, forecasts); not recorded for dry runs. */
  readonly samples?: readonly SampleInput[];
  /** Conditions to alert on besides the run's status (one incident per key). */
  readonly alerts?: readonly ActionAlert[];
  /**
   * Problems found at a place in a file (a lint error, a broken link, a failing test), for CI
   * annotations (`run-task --format github`). Keep the list short (the first few hundred); the
   * counts belong in `issuesFound`.
   */
  readonly findings?: readonly Finding[];
}

/** One problem at a place: what `run-task --format github` turns into a workflow annotation. */
export interface Finding {
  readonly severity: 'error' | 'warning' | 'notice';
  readonly message: string;
  /** Absolute, or relative to the config file's directory. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** Short heading, e.g. the tool and rule: "eslint no-unused-vars". */
  readonly title?: string;
}
