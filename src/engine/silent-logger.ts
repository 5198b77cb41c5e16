/**
 * The default logger when none is given: discards everything. Loading pino costs a CLI command
 * ~20 ms for nothing, so this stands in with the methods caretaker and actions use.
 */
import type { Logger } from 'pino';

const noop = (): void => {};

export function silentLogger(): Logger {
  const logger = {
    level: 'silent',
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    fatal: noop,
    silent: noop,
    child: () => logger,
    bindings: () => ({}),
    isLevelEnabled: () => false,
    flush: (cb?: (err?: Error) => void) => cb?.(),
  };
  return logger as unknown as Logger;
}
