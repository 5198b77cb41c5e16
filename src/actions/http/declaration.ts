/** What the registry knows of `http` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const httpDeclaration = declareAction({
  name: 'http',
  description: 'Call a URL and check the response status (and body)',
  schema,
  modifies: () => [], // no files
});
