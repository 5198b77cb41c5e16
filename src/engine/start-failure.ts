/**
 * When caretaker cannot start (a bad edit of the config, an unreadable store), nobody is watching
 * yet — so the channels are read from the file as far as it can be read (each `notify:` entry on
 * its own) and told directly, without the store. A config that cannot be read at all can alert
 * no one: then the error goes to stderr only, as before.
 *
 * One alert per incident, like every other alert: a restart loop (systemd's Restart=, a
 * supervisor) fails again and again, and pages once. The open incident is a small file (the
 * store may be what fails): in the state dir, or the temp dir when the state dir cannot be
 * written. Repeats are counted; after `renotify` (6 h) the alert is sent again; a start that
 * succeeds closes the incident (closeStartFailure).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { channelSchema } from '../config/alerting-schema.js';
import { resolveAlerting } from '../config/resolve-alerting.js';
import type { RawConfig } from '../config/schema.js';
import { ALERT_DEFAULTS } from '../config/resolve-alerting.js';
import { formatDuration } from '../core/duration.js';
import { ConfigError, formatIssue } from '../errors/config-error.js';
import { incidentFiles, readIncident, stateDirOf, writeIncident } from './start-failure-incident.js';
import { SystemClock } from './clock.js';
import { buildEvent } from '../notify/alert-event.js';
import { secretEnvNames } from '../notify/channels/channel.js';
import { makeChannel } from '../notify/channels/make-channel.js';
import { deliver, type DeliveryOutcome } from '../notify/delivery.js';
import { secretValues } from '../notify/redact.js';

export interface StartFailureAlert {
  readonly channel: string;
  readonly outcome: DeliveryOutcome;
}

export interface StartFailureReport {
  readonly alerts: StartFailureAlert[];
  /** Set when the open incident was already alerted: nothing was sent this time. */
  readonly suppressed?: string;
}

function describe(err: unknown): string {
  if (err instanceof ConfigError) return err.issues.map(formatIssue).join('\n');
  return err instanceof Error ? err.message : String(err);
}

export async function alertStartFailure(configPath: string, err: unknown): Promise<StartFailureReport> {
  let raw: Record<string, unknown>;
  try {
    const doc: unknown = parse(readFileSync(configPath, 'utf8'));
    if (typeof doc !== 'object' || doc === null) return { alerts: [] };
    raw = doc as Record<string, unknown>;
  } catch {
    return { alerts: [] };
  }
  const clock = new SystemClock();
  const now = clock.now();
  const files = incidentFiles(configPath, stateDirOf(configPath, raw));
  const open = readIncident(files);
  const message = `caretaker could not start with ${resolve(configPath)}:\n${describe(err)}`;
  const renotifyMs = ALERT_DEFAULTS.renotifyMs;
  if (open?.lastNotifiedAt != null && now - open.lastNotifiedAt < renotifyMs) {
    const occurrences = open.occurrences + 1;
    writeIncident(files, { ...open, occurrences, message });
    return {
      alerts: [],
      suppressed: `start failure already reported ${new Date(open.lastNotifiedAt).toISOString()} (failed ${occurrences} times since ${new Date(open.openedAt).toISOString()}); not alerting again for ${formatDuration(renotifyMs - (now - open.lastNotifiedAt))}`,
    };
  }
  const entries = (Array.isArray(raw.notify) ? raw.notify : [])
    .map((c: unknown) => channelSchema.safeParse(c))
    .filter((r) => r.success)
    .map((r) => r.data);
  if (entries.length === 0) return { alerts: [] };
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
  if (channels.length === 0) return { alerts: [] };
  const ev = buildEvent({
    event: 'start_failure',
    subject: { kind: 'daemon', id: 'caretaker' },
    host,
    now,
    message,
    secrets,
  });
  // Bounded: a failing start must not hang on an unreachable channel.
  const signal = AbortSignal.timeout(60_000);
  const alerts = await Promise.all(
    channels.map(async (c) => ({
      channel: c.config.name,
      outcome: await deliver(c, ev, { clock, signal, secrets }),
    })),
  );
  // Told once someone heard it; when every channel failed, the next attempt tries again.
  const heard = alerts.some((a) => a.outcome.ok);
  writeIncident(files, {
    openedAt: open?.openedAt ?? now,
    lastNotifiedAt: heard ? now : (open?.lastNotifiedAt ?? null),
    occurrences: (open?.occurrences ?? 0) + 1,
    message,
  });
  return { alerts };
}
