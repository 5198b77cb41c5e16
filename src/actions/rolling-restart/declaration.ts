/** What the registry knows of `rolling-restart` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const rollingRestartDeclaration = declareAction({
  name: 'rolling-restart',
  description: 'Recycle instances one at a time, each back to healthy before the next',
  schema,
  category: 'process',
  modifies: () => [], // processes, not files
});
