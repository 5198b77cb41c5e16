/** The history store cannot be opened (missing driver, unreadable file, newer schema): exit 2. */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
  readonly exitCode = 2;
}
