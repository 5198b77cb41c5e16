/** What the registry knows of `export` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const exportDeclaration = declareAction({
  name: 'export',
  description: 'Export run history, metrics or an application’s JSON/JSONL data to CSV, JSON, Markdown',
  schema,
  modifies: (o, resolvePath) => [resolvePath(o.output)],
  targets: (o, resolvePath) => [{ key: ['output'], path: resolvePath(o.output) }],
});
