/**
 * Checks web links: HEAD first, GET when the server does not answer HEAD properly, each with its
 * own timeout; at most `concurrency` requests at once and at least `perHostIntervalMs` between two
 * requests to one host, so a docs tree with 200 links to one site does not hammer it.
 */
import { formatDuration } from '../../core/duration.js';
import { setTimeout as delay } from 'node:timers/promises';
import { deadlineSignal } from '../../os/deadline-signal.js';

export interface ExternalOutcome {
  readonly url: string;
  /** true: reachable (2xx/3xx after redirects). */
  readonly ok: boolean;
  /** The final HTTP status, null when no answer came. */
  readonly status: number | null;
  /** Why it is broken (or was not checked). */
  readonly reason?: string;
  /** Where a redirect ended, when it did. */
  readonly redirectedTo?: string;
  /** The server asked us to slow down (429): neither broken nor fine; reported as a warning. */
  readonly rateLimited?: boolean;
}

export interface ExternalOptions {
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly perHostIntervalMs: number;
  readonly signal: AbortSignal;
  readonly userAgent?: string;
}

// Servers that refuse or mishandle HEAD say so with these; the GET decides.
const RETRY_WITH_GET = new Set([400, 403, 405, 406, 501]);

/** Spaces requests to one host; waits use real time (network politeness, not scheduling). */
class HostPacer {
  readonly #next = new Map<string, number>();
  constructor(readonly intervalMs: number) {}

  async wait(host: string, signal: AbortSignal): Promise<void> {
    if (this.intervalMs <= 0) return;
    const now = performance.now();
    const at = Math.max(now, this.#next.get(host) ?? 0);
    this.#next.set(host, at + this.intervalMs);
    if (at > now) await delay(at - now, undefined, { signal });
  }
}

function describe(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${formatDuration(timeoutMs)}`;
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  const code = e.cause?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  return code ?? e.cause?.message ?? e.message ?? String(err);
}

async function request(
  url: string,
  method: 'HEAD' | 'GET',
  o: ExternalOptions,
  pacer: HostPacer,
  host: string,
): Promise<{ status: number; finalUrl: string } | { error: string }> {
  await pacer.wait(host, o.signal);
  const timeout = deadlineSignal(o.signal, o.timeoutMs);
  try {
    const res = await fetch(url, {
      method,
      redirect: 'follow',
      signal: timeout.signal,
      headers: { 'user-agent': o.userAgent ?? 'caretaker-docs-check', accept: '*/*' },
    });
    // Only the status matters: do not download the page.
    await res.body?.cancel().catch(() => {});
    return { status: res.status, finalUrl: res.url };
  } catch (err) {
    if (o.signal.aborted) throw err;
    return { error: describe(err, timeout.signal.aborted, o.timeoutMs) };
  } finally {
    timeout.done();
  }
}

async function checkUrl(url: string, o: ExternalOptions, pacer: HostPacer): Promise<ExternalOutcome> {
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    return { url, ok: false, status: null, reason: 'not a valid URL' };
  }
  let r = await request(url, 'HEAD', o, pacer, host);
  if ('status' in r && RETRY_WITH_GET.has(r.status)) r = await request(url, 'GET', o, pacer, host);
  if ('error' in r) return { url, ok: false, status: null, reason: r.error };
  const redirectedTo = r.finalUrl && r.finalUrl !== url ? r.finalUrl : undefined;
  if (r.status === 429)
    return { url, ok: false, status: 429, reason: 'rate limited (429)', rateLimited: true };
  if (r.status >= 400) return { url, ok: false, status: r.status, reason: `HTTP ${r.status}`, redirectedTo };
  return { url, ok: true, status: r.status, redirectedTo };
}

/** Checks every URL once, `concurrency` at a time; results in input order. */
export async function checkUrls(urls: readonly string[], o: ExternalOptions): Promise<ExternalOutcome[]> {
  const pacer = new HostPacer(o.perHostIntervalMs);
  const out: ExternalOutcome[] = new Array<ExternalOutcome>(urls.length);
  let next = 0;
  const worker = async () => {
    while (next < urls.length && !o.signal.aborted) {
      const i = next++;
      out[i] = await checkUrl(urls[i]!, o, pacer);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, urls.length)) }, worker));
  o.signal.throwIfAborted();
  return out;
}
