/** What the registry knows of `db-retention` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const dbRetentionDeclaration = declareAction({
  name: 'db-retention',
  description: 'Delete old rows in small batches (PostgreSQL, SQLite), archiving them first',
  schema,
  category: 'database',
  // Rows are not files a rollback point can hold; the archive is.
  modifies: (o, resolvePath) => (o.archive_to !== undefined ? [resolvePath(o.archive_to)] : []),
  targets: (o, resolvePath) =>
    o.archive_to !== undefined ? [{ key: ['archive_to'], path: resolvePath(o.archive_to) }] : [],
});
