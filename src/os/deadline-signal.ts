/**
 * A signal that aborts when `parent` does, or after `ms` with a `TimeoutError` (the error
 * AbortSignal.timeout gives), whichever comes first.
 *
 * Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 and 22 the timeout signal
 * inside such a composite can be garbage-collected before it fires (nodejs/node#57736), and the
 * request it was to bound then waits for ever — an http task with `timeout: 200ms` ran for the
 * server's whole 3 s in a test suite under memory pressure. Here the timer holds the controller
 * strongly; `done()` clears it (call it in a `finally`).
 */
export interface DeadlineSignal {
  readonly signal: AbortSignal;
  done(): void;
}

export function deadlineSignal(parent: AbortSignal, ms: number): DeadlineSignal {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  // Like AbortSignal.timeout: the deadline alone does not keep the process running.
  timer.unref();
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}
