/** A task or check ran and failed. Exit 1. */
export class TaskFailedError extends Error {
  override name = 'TaskFailedError';
  readonly exitCode = 1;
}
