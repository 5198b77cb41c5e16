/**
 * One full garbage collection, now. A daemon's start-up (the YAML document, the schemas, the
 * first history pass) leaves some 30 MB of garbage in the heap; V8 collects it only when its
 * memory reducer runs, about a minute later, so the idle daemon would hold twice the private
 * memory it needs for that minute and then spend the collection's CPU in it. Collected once at
 * the end of start-up instead, the cost is paid where start-up is paid.
 *
 * Node exposes `gc` only with `--expose-gc`; the flag set at run time applies to contexts made
 * after it, so the function is taken from a new one (the flag is turned off again after).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function fullGc(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') {
    exposed();
    return;
  }
  setFlagsFromString('--expose-gc');
  try {
    (runInNewContext('gc') as () => void)();
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
