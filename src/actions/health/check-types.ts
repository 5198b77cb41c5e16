/**
 * The shape every health check shares: a kind (disk, http, …) with a schema for one check, a
 * default timeout, and `run` that measures and judges. A check may yield several results
 * (metrics_file: one per group and measure).
 */
import type { z } from 'zod';
import type { Clock } from '../../core/clock.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface CheckSample {
  /** Metric name within the check, e.g. `used_bytes`, `latency_ms`. */
  readonly metric: string;
  readonly value: number;
  readonly unit?: string;
  readonly better?: 'lower' | 'higher';
}

/** What one check measured and concluded. */
export interface CheckOutcome {
  /** Appended to the check's name when a check yields several results (`/api/duration.mean`). */
  readonly suffix?: string;
  readonly status: CheckStatus;
  /** The headline measured value (a number when there is one). */
  readonly value: number | string | boolean | null;
  readonly unit?: string;
  /** The limits it was judged against, as written ("warn ≥ 90%, fail ≥ 95%"). */
  readonly thresholds?: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly samples?: readonly CheckSample[];
}

export interface CheckResult extends CheckOutcome {
  readonly kind: string;
  readonly name: string;
  readonly durationMs: number;
  /** What the check's on_fail remedy did, when it had one and the check failed. */
  readonly remedy?: { readonly ran: boolean; readonly ok?: boolean; readonly message: string };
  /** Trend labels of its sampled values (metric → label). */
  readonly trends?: Readonly<Record<string, string>>;
}

export interface CheckContext {
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly dryRun: boolean;
  readonly killGraceMs: number;
  resolvePath(p: string): string;
}

export interface CheckKind<Spec = unknown> {
  readonly kind: string;
  readonly schema: z.ZodType<Spec>;
  readonly defaultTimeoutMs: number;
  /** The name a check gets when it has none. */
  nameOf(spec: Spec, index: number): string;
  run(spec: Spec, ctx: CheckContext): Promise<CheckOutcome | readonly CheckOutcome[]>;
}

/** Keeps a kind's spec type from its schema. */
export function defineCheck<S extends z.ZodType>(
  kind: Omit<CheckKind<z.output<S>>, 'schema'> & { schema: S },
): CheckKind<z.output<S>> {
  return kind as unknown as CheckKind<z.output<S>>;
}

const RANK: Record<CheckStatus, number> = { skipped: 0, ok: 1, warn: 2, fail: 3 };

export function worst(...statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((w, s) => (RANK[s] > RANK[w] ? s : w), 'ok');
}

/** "disk /data", or just "memory" when the check is named after its kind. */
export function checkLabel(c: { readonly kind: string; readonly name: string }): string {
  return c.name === c.kind ? c.kind : `${c.kind} ${c.name}`;
}
