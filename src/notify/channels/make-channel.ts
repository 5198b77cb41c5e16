/** One place that turns a channel's configuration into the channel. */
import type { ChannelConfig } from '../types.js';
import type { Channel } from './channel.js';
import { commandChannel } from './command.js';
import { emailChannel } from './email.js';
import { slackChannel } from './slack.js';
import { webhookChannel } from './webhook.js';

export function makeChannel(config: ChannelConfig): Channel {
  switch (config.type) {
    case 'webhook':
      return webhookChannel(config);
    case 'slack':
      return slackChannel(config);
    case 'email':
      return emailChannel(config);
    case 'command':
      return commandChannel(config);
  }
}
