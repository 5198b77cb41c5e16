/**
 * Delivers one alert to one channel: retries with exponential backoff on the injected clock,
 * gives up early on errors retrying cannot fix, and never throws — the outcome is data for the
 * store, with secrets redacted.
 */
import type { Clock } from '../core/clock.js';
import { DeliveryError, type Channel } from './channels/channel.js';
import { redact } from './redact.js';
import type { AlertEvent } from './types.js';

export interface DeliveryOutcome {
  readonly ok: boolean;
  readonly attempts: number;
  readonly error: string | null;
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clock.clearTimer(timer);
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function deliver(
  channel: Channel,
  ev: AlertEvent,
  opts: { clock: Clock; signal: AbortSignal; secrets: readonly string[] },
): Promise<DeliveryOutcome> {
  const { retries, backoffMs } = channel.config;
  let attempts = 0;
  let error = 'not attempted';
  for (;;) {
    attempts++;
    try {
      await channel.send(ev, opts.signal);
      return { ok: true, attempts, error: null };
    } catch (err) {
      error = redact(err instanceof Error ? err.message : String(err), opts.secrets);
      const retryable = !(err instanceof DeliveryError) || err.retryable;
      if (!retryable || attempts > retries || opts.signal.aborted) break;
      await sleep(opts.clock, backoffMs * 2 ** (attempts - 1), opts.signal);
      if (opts.signal.aborted) break;
    }
  }
  return { ok: false, attempts, error };
}
