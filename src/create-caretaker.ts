/**
 * The library's `createCaretaker`: synchronous, so every built-in action's declaration is imported
 * with this module and a config naming any of them loads without an await. The command line and
 * the daemon use `openCaretaker` (caretaker.ts), which imports only the declarations the config
 * names.
 */
import { loadedBuiltinRegistry } from './actions/builtin-loaded.js';
import { Caretaker, loadCaretakerConfig, type CaretakerOptions } from './caretaker.js';

export function createCaretaker(opts: CaretakerOptions): Caretaker {
  const registry = loadedBuiltinRegistry(opts.actions ?? []);
  return new Caretaker(opts, { registry, config: loadCaretakerConfig(opts, registry) });
}
