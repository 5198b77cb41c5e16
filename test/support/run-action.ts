/**
 * Runs one action directly and returns its result: options parsed by the action's schema, the
 * shared real context (test/support/action-context.ts) on a manual clock unless the test picks one.
 */
import type { ActionResult, AnyAction, Progress } from '../../src/actions/types.js';
import { ManualClock } from '../../src/engine/clock.js';
import { makeContext, type RunOptions } from './action-context.js';

export interface RunActionOptions extends RunOptions {
  /** Collects the action's progress reports. */
  readonly progress?: Progress[];
}

/** Parses `options` with the action's schema (throws on invalid options) and runs it. */
export async function runAction(
  action: AnyAction,
  options: unknown,
  opts: RunActionOptions,
): Promise<ActionResult> {
  const parsed = action.schema.parse(options) as unknown;
  const ctx = makeContext(
    { ...opts, clock: opts.clock ?? new ManualClock(Date.now()) },
    { output: [], progress: opts.progress ?? [] },
  );
  return action.run(ctx, parsed);
}
