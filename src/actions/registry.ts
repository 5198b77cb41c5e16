/**
 * The set of actions a config may name. Built-ins are registered by `builtinRegistry()` as
 * deferred actions: known by name, their declaration (schema and all) imported by `load()` when a
 * config names them, their code on their first run. Loading a config costs only the schemas of
 * the actions it names.
 */
import { lazyAction, type ActionDeclaration, type ComposedDeclaration } from './declaration.js';
import type { ActionLookup, AnyAction } from './types.js';

/** An action known by name whose declaration and implementation are imported on demand. */
export interface DeferredAction {
  readonly name: string;
  readonly deferred: true;
  declaration(): Promise<ActionDeclaration | ComposedDeclaration>;
  implementation(): Promise<AnyAction>;
}

export class ActionRegistry implements ActionLookup {
  readonly #actions = new Map<string, AnyAction | DeferredAction>();
  readonly #loading = new Map<string, Promise<void>>();

  constructor(actions: Iterable<AnyAction | DeferredAction> = []) {
    for (const a of actions) this.register(a);
  }

  register(action: AnyAction | DeferredAction): this {
    if (this.#actions.has(action.name)) throw new Error(`action "${action.name}" is registered twice`);
    if (isDeferred(action)) this.#actions.set(action.name, action);
    else this.#settle(action);
    return this;
  }

  /**
   * The action, with its declaration. A deferred action must have been loaded (`load`) first:
   * config loading is synchronous, so the loader loads what a file names before it checks it.
   */
  get(name: string): AnyAction | undefined {
    const a = this.#actions.get(name);
    if (a && isDeferred(a))
      throw new Error(`the declaration of action "${name}" is not loaded (ActionRegistry.load first)`);
    return a;
  }

  has(name: string): boolean {
    return this.#actions.has(name);
  }

  names(): string[] {
    return [...this.#actions.keys()];
  }

  /** Every action; all must be loaded (`load()` with no names loads every declaration). */
  all(): AnyAction[] {
    return this.names().map((n) => this.get(n)!);
  }

  /** Imports the declarations of these actions (every one when none are named); unknown names are ignored. */
  async load(names?: Iterable<string>): Promise<this> {
    const wanted = names === undefined ? this.names() : [...new Set(names)];
    await Promise.all(
      wanted.map((name) => {
        const a = this.#actions.get(name);
        if (!a || !isDeferred(a)) return undefined;
        let loading = this.#loading.get(name);
        if (!loading) {
          loading = a.declaration().then(
            (declaration) => this.provide(declaration, a.implementation),
            (err: unknown) => {
              this.#loading.delete(name); // tried again next time
              throw err;
            },
          );
          this.#loading.set(name, loading);
        }
        return loading;
      }),
    );
    return this;
  }

  /**
   * Settles a deferred action with its declaration, already imported (the library's registry
   * imports every declaration up front so that a config loads without an await).
   */
  provide(
    declaration: ActionDeclaration | ComposedDeclaration,
    implementation: () => Promise<AnyAction>,
  ): void {
    const a = this.#actions.get(declaration.name);
    if (!a || !isDeferred(a)) return;
    this.#settle(lazyAction(declaration, implementation));
  }

  #settle(action: AnyAction): void {
    // Bound lazily: an action bound now still sees actions registered after it.
    this.#actions.set(action.name, action.bind ? action.bind(this) : action);
  }
}

function isDeferred(a: AnyAction | DeferredAction): a is DeferredAction {
  return 'deferred' in a && a.deferred === true;
}
