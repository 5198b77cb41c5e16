/** What the registry knows of `module` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const moduleDeclaration = declareAction({
  name: 'module',
  description: 'Call an exported async function of a JS/TS module (a custom executor)',
  schema,
  modifies: () => undefined, // the module's own business: name the paths in rollback:
});
