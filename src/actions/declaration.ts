/**
 * An action's declaration: what loading a config, `caretaker init`, the docs and the JSON schema
 * need of it — name, description, category, option schema, the paths it modifies — without its
 * code. A built-in action's declaration imports only what its schema needs; `run` and its heavy
 * imports (tar, pg, markdown-it, the TypeScript compiler…) load on the first run, so a command
 * that only reads the config or asks the daemon pays for none of them.
 */
import type { z } from 'zod';
import type { Action, ActionLookup, AnyAction } from './types.js';

export type ActionDeclaration<Schema extends z.ZodType = z.ZodType> = Omit<Action<Schema>, 'run' | 'bind'>;

/**
 * The declaration of an action made of other actions (`runbook`): bound to a registry, its schema
 * checks each step with that step's own action.
 */
export interface ComposedDeclaration extends ActionDeclaration {
  bind(actions: ActionLookup): ActionDeclaration;
}

/** Keeps a declaration's options typed from its schema without repeating the type. */
export function declareAction<Schema extends z.ZodType>(
  declaration: ActionDeclaration<Schema>,
): ActionDeclaration<Schema> {
  return declaration;
}

/**
 * An action made of its declaration and a loader of its implementation, called once, on the first
 * run. The implementation is the full action (`defineAction({ ...declaration, run })`): its `run`
 * is the one that runs; schema, description and `modifies` stay the declaration's.
 */
export function lazyAction(
  declaration: ActionDeclaration | ComposedDeclaration,
  load: () => Promise<AnyAction>,
): AnyAction {
  let loading: Promise<AnyAction> | undefined;
  const implementation = () => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined; // a failed import (a missing optional package) is retried next run
      throw err;
    });
    return loading;
  };
  const action: AnyAction = {
    ...declaration,
    run: async (ctx, options) => (await implementation()).run(ctx, options),
    bind: undefined,
  };
  if ('bind' in declaration) {
    action.bind = (actions) =>
      lazyAction(declaration.bind(actions), async () => {
        const impl = await implementation();
        if (!impl.bind) throw new Error(`action "${impl.name}" cannot be bound to a registry`);
        return impl.bind(actions);
      });
  }
  return action;
}
