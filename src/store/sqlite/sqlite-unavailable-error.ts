/** Neither SQLite driver can run on this Node: a setup problem the user fixes (exit 2). */
export class SqliteUnavailableError extends Error {
  override name = 'SqliteUnavailableError';
  readonly exitCode = 2;
}
