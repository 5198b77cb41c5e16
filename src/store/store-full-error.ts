/**
 * A write to the store failed because its disk is full or failing (SQLite: SQLITE_FULL or
 * SQLITE_IOERR). Nothing of the failed write was kept, and the store stays open: the same
 * store accepts writes again once space returns, so a caller may keep going and retry later.
 */
export class StoreFullError extends Error {
  override name = 'StoreFullError';
  readonly exitCode = 1;

  constructor(
    message: string,
    /** The driver's code (SQLITE_FULL, SQLITE_IOERR, …). */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
