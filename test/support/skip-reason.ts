/**
 * The one way a test says it cannot run here: the reason is printed where the run's output shows
 * it, and the caller skips with `it.skipIf(reason)` / `describe.skipIf(reason)` /
 * `ctx.skip(reason)`. Never a silent early `return`, which vitest counts as a pass.
 */

export interface SkipRule {
  /** Under CI (CI set) the reason is a failure, not a skip: a green CI must mean the test ran. */
  readonly requiredUnderCi?: boolean;
}

/** Prints `SKIPPED <what>: <why>` and returns `why` for skipIf; throws instead under CI when required. */
export function skipBecause(what: string, why: string, rule: SkipRule = {}): string {
  if (rule.requiredUnderCi && process.env.CI) {
    throw new Error(`${what} cannot run: ${why} (required under CI, so this fails instead of skipping)`);
  }
  console.warn(`\n*** SKIPPED ${what}: ${why}\n`);
  return why;
}
