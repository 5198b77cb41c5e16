/**
 * Flaky tests across runs: a test that failed in one run and passed in another on the same code
 * (the same commit and the same uncommitted changes) is flaky — the code did not change, the
 * outcome did. Each run keeps a compact record in its result's details: the failing test ids in
 * full, and the passing ones as 8-hex-digit hashes (a suite of 5,000 tests costs 40 KB, and a
 * collision could at worst name one test flaky that is not).
 */
import { createHash } from 'node:crypto';
import type { PastRun } from '../types.js';

/** Failing ids kept per run; a run with more failures than this is broken, not flaky. */
export const MAX_FAILED_IDS = 200;
/** Passing ids (hashed) kept per run. */
export const MAX_PASSED_IDS = 5_000;

export interface RunRecord {
  /** `git rev-parse HEAD` in the test directory; null outside a git repository. */
  readonly commit: string | null;
  /** A hash of `git diff HEAD` when tracked files have uncommitted changes, else null. */
  readonly worktree: string | null;
  readonly failed: readonly string[];
  /** Concatenated 8-hex-digit hashes of the passing test ids, sorted. */
  readonly passed: string;
  /** Some ids did not fit (see the caps). */
  readonly truncated?: boolean;
}

export interface FlakyTest {
  readonly id: string;
  /** Run ids in which it failed / passed (this run included). */
  readonly failedIn: readonly number[];
  readonly passedIn: readonly number[];
}

export function hashId(id: string): string {
  return createHash('sha1').update(id).digest('hex').slice(0, 8);
}

export function makeRecord(
  code: { commit: string | null; worktree: string | null },
  failed: Iterable<string>,
  passed: Iterable<string>,
): RunRecord {
  const f = [...new Set(failed)];
  const p = [...new Set([...passed].map(hashId))].sort();
  const truncated = f.length > MAX_FAILED_IDS || p.length > MAX_PASSED_IDS;
  return {
    commit: code.commit,
    worktree: code.worktree,
    failed: f.slice(0, MAX_FAILED_IDS),
    passed: p.slice(0, MAX_PASSED_IDS).join(''),
    ...(truncated ? { truncated: true } : {}),
  };
}

/** The record a past run of test-health kept, or undefined (another version, a dry run, a crash). */
export function recordOf(run: PastRun): RunRecord | undefined {
  const r = run.result?.details?.record as Partial<RunRecord> | undefined;
  if (!r || typeof r !== 'object') return undefined;
  if (!(typeof r.commit === 'string' || r.commit === null)) return undefined;
  if (!Array.isArray(r.failed) || typeof r.passed !== 'string') return undefined;
  return {
    commit: r.commit,
    worktree: typeof r.worktree === 'string' ? r.worktree : null,
    failed: r.failed.filter((x): x is string => typeof x === 'string'),
    passed: r.passed,
  };
}

function passedSet(r: RunRecord): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 8 <= r.passed.length; i += 8) out.add(r.passed.slice(i, i + 8));
  return out;
}

/**
 * Tests that failed in one of these runs and passed in another (or in the same run, on a rerun),
 * counting only runs on the same commit and worktree as `current`. Outside git nothing is flaky:
 * without a commit there is no telling whether the code changed between runs.
 */
export function findFlaky(
  current: { runId: number; record: RunRecord },
  past: readonly { runId: number; record: RunRecord }[],
): FlakyTest[] {
  const { commit, worktree } = current.record;
  if (commit === null) return [];
  const runs = [current, ...past.filter((p) => p.record.commit === commit && p.record.worktree === worktree)];
  const passed = runs.map((r) => passedSet(r.record));
  const candidates = new Set(runs.flatMap((r) => r.record.failed));
  const out: FlakyTest[] = [];
  for (const id of candidates) {
    const h = hashId(id);
    const failedIn = runs.filter((r) => r.record.failed.includes(id)).map((r) => r.runId);
    const passedIn = runs.filter((_, i) => passed[i]!.has(h)).map((r) => r.runId);
    if (failedIn.length > 0 && passedIn.length > 0) out.push({ id, failedIn, passedIn });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
