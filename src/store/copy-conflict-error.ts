/**
 * Two `caretaker store copy` of the same history into the same store at once: the one that finds
 * the copy mark moved under it stops (its batch rolled back) instead of copying runs twice.
 * Exit 1: nothing is wrong with the command; run it again once the other has finished.
 */
export class CopyConflictError extends Error {
  override name = 'CopyConflictError';
  readonly exitCode = 1;
}
