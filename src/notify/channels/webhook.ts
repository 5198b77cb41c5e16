/**
 * `webhook`: the alert as a JSON POST. With `secret_env`, the body is signed:
 * `X-Caretaker-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>` (GitHub's scheme), so
 * a receiver can verify it came from caretaker and was not altered.
 */
import { createHmac } from 'node:crypto';
import { VERSION } from '../../version.js';
import type { AlertEvent, WebhookChannelConfig } from '../types.js';
import { DeliveryError, fetchFailure, fromEnv, type Channel } from './channel.js';
import { deadlineSignal } from '../../os/deadline-signal.js';

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function webhookChannel(config: WebhookChannelConfig): Channel {
  return {
    config,
    async send(ev: AlertEvent, signal: AbortSignal) {
      const url = config.urlEnv ? fromEnv(config.urlEnv, `url of channel ${config.name}`) : config.url!;
      const body = JSON.stringify(ev);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': `caretaker/${VERSION}`,
        'x-caretaker-event': ev.event,
        ...config.headers,
      };
      for (const [name, env] of Object.entries(config.headersEnv))
        headers[name] = fromEnv(env, `header ${name} of channel ${config.name}`);
      if (config.secretEnv)
        headers['x-caretaker-signature'] = signBody(
          body,
          fromEnv(config.secretEnv, `secret of channel ${config.name}`),
        );
      await postJson(url, body, headers, signal, config.timeoutMs);
    },
  };
}

/** POSTs and insists on a 2xx answer. Shared with `slack`. */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<void> {
  let res: Response;
  let text: string;
  const deadline = deadlineSignal(signal, timeoutMs);
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'error',
      signal: deadline.signal,
    });
    text = await res.text().catch(() => '');
  } catch (err) {
    throw fetchFailure(err, timeoutMs);
  } finally {
    deadline.done();
  }
  if (res.status < 200 || res.status >= 300) {
    // 4xx other than 408/429 will not get better by retrying (a wrong URL, a bad payload).
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    throw new DeliveryError(
      `answered ${res.status}${text ? `: ${text.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`,
      retryable,
    );
  }
}
