/**
 * The store cannot be reached (PostgreSQL: connection refused, reset or terminated, an
 * administrator shutdown, a connection-class SQLSTATE). Distinct from bad SQL or missing rights:
 * nothing is wrong with the write itself, and the same store takes it once the server is back,
 * so a scheduler keeps going and spools what it cannot write (engine/store-backlog.ts).
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  readonly exitCode = 1;

  constructor(
    message: string,
    /** The driver's code or SQLSTATE (ECONNREFUSED, 57P01, 08006, …), or "unknown". */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
