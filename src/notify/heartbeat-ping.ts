/**
 * The external heartbeat: a GET to a URL (healthchecks.io, Uptime Kuma, a cron monitor) at every
 * beat, so that a daemon that died — or a host that did — is noticed from outside.
 */
import type { Logger } from 'pino';
import { VERSION } from '../version.js';
import type { HeartbeatConfig } from './types.js';

export async function pingHeartbeatUrl(hb: HeartbeatConfig, logger: Logger): Promise<boolean> {
  const url = hb.urlEnv ? process.env[hb.urlEnv] : hb.url;
  if (!url) {
    logger.warn(
      `heartbeat: environment variable ${hb.urlEnv} is not set; the external heartbeat is not sent`,
    );
    return false;
  }
  try {
    const res = await fetch(url, {
      headers: { 'user-agent': `caretaker/${VERSION}` },
      signal: AbortSignal.timeout(Math.min(10_000, hb.everyMs)),
    });
    await res.body?.cancel();
    if (!res.ok) logger.warn({ status: res.status }, 'heartbeat URL answered with an error');
    return res.ok;
  } catch (err) {
    // The URL may carry a token: log the failure, not the address.
    logger.warn(
      { reason: (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message },
      'heartbeat URL not reached',
    );
    return false;
  }
}
