/** What the registry knows of `db-maintain` without loading its code (see ../declaration.ts). */
import { declareAction } from '../declaration.js';
import { schema } from './schema.js';

export const dbMaintainDeclaration = declareAction({
  name: 'db-maintain',
  description: 'VACUUM / ANALYZE / REINDEX (PostgreSQL), integrity_check / VACUUM / ANALYZE (SQLite)',
  schema,
  category: 'database',
  modifies: () => [], // a database, not files a rollback point can hold
});
