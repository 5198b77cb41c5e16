/** What the registry knows of `backup` without loading its code (see ../declaration.ts). */
import { walkRoot } from '../../safety/expand-paths.js';
import { declareAction } from '../declaration.js';
import { backupSchema } from './schema.js';

export const backupDeclaration = declareAction({
  name: 'backup',
  description:
    'Timestamped tar.gz with a checksum manifest, SQLite/PostgreSQL dumps, verification and retention',
  schema: backupSchema,
  category: 'backup',
  // New archives, and the old ones `keep` deletes: all in dest (none here without a dest).
  modifies: (o, resolvePath) => (o.dest === undefined ? [] : [resolvePath(o.dest)]),
  targets: (o, resolvePath) => [
    ...(o.dest === undefined ? [] : [{ key: ['dest'], path: resolvePath(o.dest) }]),
    // Read, not written: the home directory is a fine thing to back up; / and the state dir are not.
    ...(o.paths ?? []).map((p, i) => ({
      key: ['paths', i],
      path: walkRoot(resolvePath(p), '/').dir,
      role: 'source' as const,
    })),
  ],
});
