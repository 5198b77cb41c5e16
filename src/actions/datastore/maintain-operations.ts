/**
 * The operations db-maintain knows per engine. Apart from the SQL that runs them, so that the
 * option schema can check them without loading a database driver.
 */
export const PG_OPERATIONS = ['analyze', 'vacuum', 'vacuum_full', 'reindex'] as const;

export const SQLITE_OPERATIONS = [
  'integrity_check',
  'vacuum',
  'analyze',
  'optimize',
  'wal_checkpoint',
] as const;
