/** What the registry knows of `shell` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const shellDeclaration = declareAction({
  name: 'shell',
  description: 'Run a command (own process group; the whole group is killed on timeout)',
  schema,
  // Without `paths` a command's effects cannot be known (undefined), which is not "none" ([]).
  modifies: (o, resolvePath) => o.paths?.map(resolvePath),
});
