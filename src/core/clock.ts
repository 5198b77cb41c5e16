/**
 * Time as a dependency. `core/` only uses the type; the engine gets an implementation
 * (the system clock in production, a manual clock in tests and simulations).
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Epoch milliseconds: the wall clock, which an operator or NTP may step either way. */
  now(): number;
  /**
   * Milliseconds on a clock that never steps (arbitrary origin): what durations and "how long
   * since" are measured with, whatever the wall clock does.
   */
  monotonic(): number;
  /** Calls `fn` once after `ms`; a clock may deliver it late but never early. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}
