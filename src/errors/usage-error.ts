/** The command was called wrongly (unknown task id, bad flag value, missing file). Exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/**
 * A usage error about something that is not there (an unknown task, a run id no run has): exit 2
 * on the command line, 404 over HTTP (400 is for a request that is malformed).
 */
export class NotFoundError extends UsageError {
  override name = 'NotFoundError';
  readonly statusCode = 404;
}
