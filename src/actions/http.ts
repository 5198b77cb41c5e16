/** `http`: calls a URL and checks the status (and optionally the body). */
import { statusMatches } from './http-status.js';
import { formatDuration } from '../core/duration.js';
import { httpDeclaration } from './http/declaration.js';
import { defineAction } from './types.js';
import { deadlineSignal } from '../os/deadline-signal.js';

export const httpAction = defineAction({
  ...httpDeclaration,
  async run(ctx, o) {
    const method = o.method ?? (o.body === undefined ? 'GET' : 'POST');
    if (ctx.dryRun) {
      return {
        ok: true,
        summary: `would send ${method} ${o.url}`,
        changed: false,
        plan: [`${method} ${o.url}`],
      };
    }
    const headers: Record<string, string> = { 'user-agent': 'caretaker', ...o.headers };
    for (const [name, envName] of Object.entries(o.headers_env ?? {})) {
      const value = process.env[envName];
      if (value === undefined)
        return { ok: false, summary: `environment variable ${envName} (for header ${name}) is not set` };
      headers[name] = value;
    }
    let body: string | undefined;
    if (typeof o.body === 'string') body = o.body;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const timeoutMs = o.timeout ?? 30_000;
    const started = performance.now();
    const deadline = deadlineSignal(ctx.signal, timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(o.url, {
        method,
        headers,
        body,
        redirect: o.follow_redirects === false ? 'manual' : 'follow',
        signal: deadline.signal,
      });
      text = method === 'HEAD' ? '' : await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why =
        e.name === 'TimeoutError'
          ? `no response within ${formatDuration(timeoutMs)}`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { ok: false, summary: `${method} ${o.url} failed: ${why}`, changed: false };
    } finally {
      deadline.done();
    }
    const ms = performance.now() - started;
    ctx.output(`HTTP ${res.status} ${res.statusText} in ${formatDuration(ms)}\n${text.slice(0, 4096)}`);
    const statusOk = statusMatches(res.status, o.expect_status);
    const bodyOk = o.expect_body === undefined || text.includes(o.expect_body);
    const problems = [
      statusOk ? null : `status ${res.status} not expected (${JSON.stringify(o.expect_status ?? '2xx')})`,
      bodyOk ? null : `body does not contain ${JSON.stringify(o.expect_body)}`,
    ].filter((p): p is string => p !== null);
    return {
      ok: problems.length === 0,
      summary:
        problems.length === 0
          ? `${method} ${o.url}: ${res.status} in ${formatDuration(ms)}`
          : `${method} ${o.url}: ${problems.join('; ')}`,
      changed: method !== 'GET' && method !== 'HEAD',
      details: { status: res.status, latencyMs: Math.round(ms), bytes: Buffer.byteLength(text) },
    };
  },
});
