/** What the registry knows of `runbook` without loading its code (see ../declaration.ts). */
import { declareAction, type ComposedDeclaration } from '../declaration.js';
import { runbookSchema, runbookShape, type BoundAction } from '../runbook-steps.js';
import type { ActionLookup } from '../types.js';

const description =
  'Ordered steps, each an action with an undo; on failure the steps done are undone in reverse';

/** undefined when the step's action cannot say (a command): then neither can the runbook. */
function modifiesOf(
  bound: BoundAction | null,
  resolvePath: (p: string) => string,
): readonly string[] | undefined {
  if (!bound) return [];
  return bound.action.modifies ? bound.action.modifies(bound.options, resolvePath) : undefined;
}

/** The runbook bound to a registry: its schema checks steps against the registered actions. */
export function boundRunbookDeclaration(actions: ActionLookup) {
  return declareAction({
    name: 'runbook',
    description,
    schema: runbookSchema(actions),
    modifies: (o, resolvePath) => {
      const each = o.steps.flatMap((s) => [modifiesOf(s, resolvePath), modifiesOf(s.undo, resolvePath)]);
      // A point of only some of the steps' files would restore a tree no run ever left.
      return each.some((m) => m === undefined) ? undefined : [...new Set(each.flatMap((m) => m ?? []))];
    },
  });
}

/** Registered like any action; the registry binds it (see `bind`) so steps can name any action. */
export const runbookDeclaration: ComposedDeclaration = {
  name: 'runbook',
  description,
  schema: runbookShape,
  bind: boundRunbookDeclaration,
};
