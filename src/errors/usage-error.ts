/** The command was called wrongly (unknown task id, bad flag value, missing file). Exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}
