/** What the registry knows of `verify-backups` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const verifyBackupsDeclaration = declareAction({
  name: 'verify-backups',
  description: 'Re-read backup archives and check every checksum; optionally run a restore drill',
  schema,
  category: 'backup',
  modifies: () => [], // reads only (a drill restores into a temp dir)
});
