/** Another live daemon of the fleet holds this host name. Exit 2. */
export class HostNameTakenError extends Error {
  override name = 'HostNameTakenError';
  readonly exitCode = 2;
}
