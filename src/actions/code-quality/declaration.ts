/** What the registry knows of `code-quality` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const codeQualityDeclaration = declareAction({
  name: 'code-quality',
  description:
    'Formatter, linter and type checker of a repository; optional fixes kept only if verify passes',
  category: 'code_quality',
  schema,
  modifies: (o, resolvePath) => (o.fix ? [resolvePath(o.cwd ?? '.')] : []),
});
