/**
 * A new incident could not be saved because one of its key is already open: another process (a
 * host of the fleet, a CLI run beside the daemon) opened it a moment before. The caller reads
 * the open one and goes on with it, so the fleet has one incident and sends one alert.
 */
export class IncidentOpenError extends Error {
  override name = 'IncidentOpenError';
  constructor(readonly key: string) {
    super(`an incident of key "${key}" is already open`);
  }
}
