/**
 * A table or column the config names is not in the database. The config loader cannot see the
 * database, so this is found when the task runs; the message names the option and the closest
 * existing name.
 */
export class SchemaMismatchError extends Error {
  override name = 'SchemaMismatchError';
}
