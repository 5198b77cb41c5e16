/** `slack`: Slack's incoming-webhook payload (text for the notification, blocks for the body). */
import { VERSION } from '../../version.js';
import { slackPayload } from '../alert-text.js';
import type { AlertEvent, SlackChannelConfig } from '../types.js';
import { fromEnv, type Channel } from './channel.js';
import { postJson } from './webhook.js';

export function slackChannel(config: SlackChannelConfig): Channel {
  return {
    config,
    async send(ev: AlertEvent, signal: AbortSignal) {
      const url = config.urlEnv
        ? fromEnv(config.urlEnv, `webhook URL of channel ${config.name}`)
        : config.url!;
      await postJson(
        url,
        JSON.stringify(slackPayload(ev)),
        { 'content-type': 'application/json', 'user-agent': `caretaker/${VERSION}` },
        signal,
        config.timeoutMs,
      );
    },
  };
}
