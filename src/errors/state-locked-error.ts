/** Another scheduler holds the state dir. Exit 2. */
export class StateLockedError extends Error {
  override name = 'StateLockedError';
  readonly exitCode = 2;
}
