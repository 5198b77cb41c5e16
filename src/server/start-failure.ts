/**
 * When caretaker cannot start (a bad edit of the config, an unreadable store), nobody is watching
 * yet — so the channels are read from the file as far as it can be read (each `notify:` entry on
 * its own) and told directly, without the store. A config that cannot be read at all can alert
 * no one: then the error goes to stderr only, as before.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { channelSchema } from '../config/alerting-schema.js';
import { resolveAlerting } from '../config/resolve-alerting.js';
import type { RawConfig } from '../config/schema.js';
import { ConfigError, formatIssue } from '../errors/config-error.js';
import { SystemClock } from '../engine/clock.js';
import { buildEvent } from '../notify/alert-event.js';
import { secretEnvNames } from '../notify/channels/channel.js';
import { makeChannel } from '../notify/channels/make-channel.js';
import { deliver, type DeliveryOutcome } from '../notify/delivery.js';
import { secretValues } from '../notify/redact.js';

export interface StartFailureAlert {
  readonly channel: string;
  readonly outcome: DeliveryOutcome;
}

function describe(err: unknown): string {
  if (err instanceof ConfigError) return err.issues.map(formatIssue).join('\n');
  return err instanceof Error ? err.message : String(err);
}

export async function alertStartFailure(configPath: string, err: unknown): Promise<StartFailureAlert[]> {
  let raw: Record<string, unknown>;
  try {
    const doc: unknown = parse(readFileSync(configPath, 'utf8'));
    if (typeof doc !== 'object' || doc === null) return [];
    raw = doc as Record<string, unknown>;
  } catch {
    return [];
  }
  const entries = (Array.isArray(raw.notify) ? raw.notify : [])
    .map((c: unknown) => channelSchema.safeParse(c))
    .filter((r) => r.success)
    .map((r) => r.data);
  if (entries.length === 0) return [];
  const dir = dirname(resolve(configPath));
  const host = typeof raw.host === 'string' ? raw.host : hostname();
  const alerting = resolveAlerting({ notify: entries } as unknown as RawConfig, {
    abs: (p) => (isAbsolute(p) ? p : resolve(dir, p)),
    dir,
    host,
    timezone: 'UTC',
  });
  const channels = alerting.channels.filter((c) => c.on.includes('start_failure')).map(makeChannel);
  const secrets = secretValues(alerting.channels.flatMap(secretEnvNames));
  const clock = new SystemClock();
  const ev = buildEvent({
    event: 'start_failure',
    subject: { kind: 'daemon', id: 'caretaker' },
    host,
    now: clock.now(),
    message: `caretaker could not start with ${resolve(configPath)}:\n${describe(err)}`,
    secrets,
  });
  // Bounded: a failing start must not hang on an unreachable channel.
  const signal = AbortSignal.timeout(60_000);
  return Promise.all(
    channels.map(async (c) => ({
      channel: c.config.name,
      outcome: await deliver(c, ev, { clock, signal, secrets }),
    })),
  );
}
