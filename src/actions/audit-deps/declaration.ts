/** What the registry knows of `audit-deps` without loading its code (see ../declaration.ts). */
import { join } from 'node:path';
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const auditDepsDeclaration = declareAction({
  name: 'audit-deps',
  description: 'Outdated packages and security advisories (npm, pip); optional safe updates with rollback',
  category: 'dependency_updates',
  schema,
  modifies: (o, resolvePath) =>
    o.update ? ['package.json', 'package-lock.json'].map((f) => resolvePath(join(o.cwd ?? '.', f))) : [],
});
