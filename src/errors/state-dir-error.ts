/** The state dir (or a directory in it) cannot be made or used. Exit 2: the configuration's to fix. */
export class StateDirError extends Error {
  override name = 'StateDirError';
  readonly exitCode = 2;
}
