/** The set of actions a config may name. Built-ins are registered by `builtinActions()`. */
import type { ActionLookup, AnyAction } from './types.js';

export class ActionRegistry implements ActionLookup {
  readonly #actions = new Map<string, AnyAction>();

  constructor(actions: Iterable<AnyAction> = []) {
    for (const a of actions) this.register(a);
  }

  register(action: AnyAction): this {
    if (this.#actions.has(action.name)) throw new Error(`action "${action.name}" is registered twice`);
    // Bound lazily: an action bound now still sees actions registered after it.
    this.#actions.set(action.name, action.bind ? action.bind(this) : action);
    return this;
  }

  get(name: string): AnyAction | undefined {
    return this.#actions.get(name);
  }

  names(): string[] {
    return [...this.#actions.keys()];
  }

  all(): AnyAction[] {
    return [...this.#actions.values()];
  }
}
