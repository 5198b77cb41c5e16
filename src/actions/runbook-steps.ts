/**
 * The `steps:` of a runbook: each an action with its options and an optional `undo` action, each
 * checked at load time with its own action's schema; errors are positioned under
 * `tasks.X.with.steps[i].with…`.
 */
import { z } from 'zod';
import { duration } from '../schema/values.js';
import { describeIssues, errorMap } from '../schema/zod-issues.js';
import { closest } from '../core/did-you-mean.js';
import type { ActionLookup, AnyAction } from './types.js';

const actionName = z.string({ error: 'expected the name of an action, e.g. shell' }).min(1);

const undoShape = z.strictObject({
  action: actionName.describe('The action that undoes the step.'),
  with: z.unknown().optional().describe("The undo action's options."),
  timeout: duration().optional().describe('Longest the undo may take. @default no limit of its own'),
});

const stepShape = z.strictObject({
  name: z.string().min(1).optional().describe('Shown in the plan and the result. @default the action name'),
  action: actionName.describe('Any registered action: shell, http, or a built-in.'),
  with: z.unknown().optional().describe("The step's own options, checked with its action's schema."),
  timeout: duration()
    .optional()
    .describe('Longest the step may take; then it fails and the steps done are undone. @default none'),
  undo: undoShape.optional().describe('Run, in reverse order, when a later step fails.'),
});

export const runbookShape = z.strictObject({
  steps: z
    .array(stepShape, { error: 'expected a list of steps, each { action, with, undo }' })
    .min(1)
    .describe('Steps run in order; on failure the ones done are undone in reverse.'),
});

export interface BoundAction {
  readonly action: AnyAction;
  readonly options: unknown;
  readonly timeoutMs: number | null;
}

export interface RunbookStep extends BoundAction {
  readonly name: string;
  readonly undo: BoundAction | null;
}

export interface RunbookOptions {
  readonly steps: readonly RunbookStep[];
}

type Ctx = z.core.$RefinementCtx<unknown>;

/** Checks `with` against the named action; pushes positioned issues, returns the bound action. */
function bindOne(
  actions: ActionLookup,
  ctx: Ctx,
  at: (string | number)[],
  name: string,
  options: unknown,
  timeoutMs: number | undefined,
): BoundAction | undefined {
  const action = actions.get(name);
  if (!action) {
    const hint = closest(name, actions.names());
    ctx.issues.push({
      code: 'custom',
      input: name,
      path: [...at, 'action'],
      message: `unknown action "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; available: ${actions.names().join(', ')}`,
    });
    return undefined;
  }
  const parsed = action.schema.safeParse(options ?? {}, { error: errorMap, reportInput: true });
  if (!parsed.success) {
    for (const m of describeIssues(parsed.error.issues, action.schema, [...at, 'with'])) {
      ctx.issues.push({
        code: 'custom',
        input: options,
        path: [...m.path],
        message: m.message,
        params: m.key === undefined ? undefined : { key: m.key },
      });
    }
    return undefined;
  }
  return { action, options: parsed.data, timeoutMs: timeoutMs ?? null };
}

/** The runbook schema for one registry: shape first, then every step against its own action. */
export function runbookSchema(actions: ActionLookup) {
  return runbookShape.transform((raw, ctx): RunbookOptions => {
    const steps: RunbookStep[] = [];
    raw.steps.forEach((s, i) => {
      const bound = bindOne(actions, ctx, ['steps', i], s.action, s.with, s.timeout);
      const undo = s.undo
        ? bindOne(actions, ctx, ['steps', i, 'undo'], s.undo.action, s.undo.with, s.undo.timeout)
        : null;
      if (bound && undo !== undefined) steps.push({ ...bound, name: s.name ?? `${s.action}`, undo });
    });
    return { steps };
  });
}
