/** What the registry knows of `health` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const healthDeclaration = declareAction({
  name: 'health',
  description: 'System and service checks (disk, memory, cpu, http, tcp, tls, process, …) with thresholds',
  category: 'health',
  schema,
  // The checks read; an on_fail remedy is a command, and what a command changes cannot be known.
  modifies: (o) => (hasRemedy(o) ? undefined : []),
});

/** Does any check (of any kind: every option is a list of checks) carry an on_fail remedy? */
function hasRemedy(o: object): boolean {
  return Object.values(o).some(
    (specs) =>
      Array.isArray(specs) &&
      specs.some((s) => typeof s === 'object' && s !== null && 'on_fail' in s && s.on_fail !== undefined),
  );
}
