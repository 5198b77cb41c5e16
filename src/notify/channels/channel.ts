/** What every alert channel is: a name, its configuration and one way to send. */
import { formatDuration } from '../../core/duration.js';
import type { AlertEvent, ChannelConfig } from '../types.js';

export interface Channel {
  readonly config: ChannelConfig;
  /** Sends one alert; throws a DeliveryError (or any error) when it did not arrive. */
  send(ev: AlertEvent, signal: AbortSignal): Promise<void>;
}

export class DeliveryError extends Error {
  override name = 'DeliveryError';
  /** False when retrying cannot help (a missing environment variable, a 4xx answer). */
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
  }
}

/** The value of a `*_env` setting, read at send time so a rotated secret needs no restart. */
export function fromEnv(name: string, what: string): string {
  const v = process.env[name];
  if (v === undefined || v === '')
    throw new DeliveryError(`environment variable ${name} (${what}) is not set`, false);
  return v;
}

/** The environment variables a channel's secrets live in. */
export function secretEnvNames(c: ChannelConfig): string[] {
  switch (c.type) {
    case 'webhook':
      return [c.urlEnv, c.secretEnv, ...Object.values(c.headersEnv)].filter((n): n is string => !!n);
    case 'slack':
      return c.urlEnv ? [c.urlEnv] : [];
    case 'email':
      return [c.smtpEnv, c.usernameEnv, c.passwordEnv].filter((n): n is string => !!n);
    case 'command':
      return [];
  }
}

/** Reads a fetch failure as one line without the URL (which may carry a token). */
export function fetchFailure(err: unknown, timeoutMs: number): DeliveryError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new DeliveryError(`no answer within ${formatDuration(timeoutMs)}`);
  return new DeliveryError(`request failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
}
