/** What the registry knows of `prune-files` without loading its code (see ../declaration.ts). */
import { walkRoot } from '../../safety/expand-paths.js';
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const pruneFilesDeclaration = declareAction({
  name: 'prune-files',
  description: 'Cache, temp and export cleanup with retention (age, size budget, keep newest, archive)',
  category: 'cache',
  schema,
  modifies: (o, resolvePath) => [
    ...o.paths.map((p) => walkRoot(resolvePath(p), '/').dir),
    ...(o.archive_to !== undefined ? [resolvePath(o.archive_to)] : []),
  ],
  targets: (o, resolvePath) => [
    // A root that is a link would be pruned where it points: refused, not followed.
    ...o.paths.map((p, i) => ({
      key: ['paths', i],
      path: walkRoot(resolvePath(p), '/').dir,
      links: 'refuse' as const,
    })),
    ...(o.archive_to !== undefined ? [{ key: ['archive_to'], path: resolvePath(o.archive_to) }] : []),
  ],
});
