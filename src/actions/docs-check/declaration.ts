/** What the registry knows of `docs-check` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const docsCheckDeclaration = declareAction({
  name: 'docs-check',
  description: 'Markdown link and anchor checker (relative links always, web links optionally)',
  category: 'documentation',
  schema,
  modifies: () => [], // reads only
});
