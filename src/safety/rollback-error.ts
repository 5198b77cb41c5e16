/** A rollback point cannot be taken, read or restored; the message says which and why. */
export class RollbackError extends Error {
  override name = 'RollbackError';
}
