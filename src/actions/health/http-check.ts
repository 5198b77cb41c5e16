/**
 * `http`: a URL answers with the expected status, body and JSON value, fast enough. Latency
 * defaults: under 5s ok, under 15s warn, else fail. Redirects are followed one by one (up to
 * `max_redirects`) so the report can say where it ended up.
 */
import { z } from 'zod';
import { statusMatches, statusSpec } from '../http-status.js';
import { duration } from '../../schema/values.js';
import { formatDuration } from '../../core/duration.js';
import { defineCheck, worst, type CheckStatus } from './check-types.js';
import { common } from './common-options.js';
import { lookup } from './json-path.js';
import { describeLimits, judgeAbove } from './thresholds.js';

const schema = z.strictObject({
  url: z.url({ error: 'expected an http:// or https:// URL', protocol: /^https?$/ }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS']).optional().describe('@default GET'),
  headers: z.record(z.string(), z.string()).optional(),
  headers_env: z
    .record(z.string(), z.string())
    .optional()
    .describe('Header values from environment variables.'),
  body: z.string().optional(),
  expect_status: statusSpec.optional().describe('@default "2xx"'),
  body_contains: z.string().optional().describe('Text the body must contain.'),
  json: z
    .strictObject({
      path: z.string().min(1).describe('e.g. status or checks.db.ok or /status'),
      equals: z.union([z.string(), z.number(), z.boolean(), z.null()]),
    })
    .optional()
    .describe('A value in the JSON body that must equal this.'),
  warn_latency: duration().optional().describe('@default 5s'),
  fail_latency: duration().optional().describe('@default 15s'),
  follow_redirects: z.boolean().optional().describe('@default true'),
  max_redirects: z.number().int().min(0).max(20).optional().describe('@default 5'),
  ...common,
});

export const httpCheck = defineCheck({
  kind: 'http',
  schema,
  defaultTimeoutMs: 30_000,
  nameOf: (s) => {
    const u = new URL(s.url);
    return `${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  },
  async run(s, ctx) {
    const method = s.method ?? 'GET';
    const headers: Record<string, string> = { 'user-agent': 'caretaker-health', ...s.headers };
    for (const [name, env] of Object.entries(s.headers_env ?? {})) {
      const v = process.env[env];
      if (v === undefined)
        return {
          status: 'fail',
          value: null,
          message: `environment variable ${env} (header ${name}) is not set`,
        };
      headers[name] = v;
    }
    const started = performance.now();
    let url = s.url;
    const hops: string[] = [];
    let res: Response;
    for (;;) {
      try {
        res = await fetch(url, { method, headers, body: s.body, redirect: 'manual', signal: ctx.signal });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        return {
          status: 'fail',
          value: null,
          message: `${method} ${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}`,
        };
      }
      const location = res.headers.get('location');
      if (s.follow_redirects === false || res.status < 300 || res.status >= 400 || !location) break;
      await res.body?.cancel();
      if (hops.length >= (s.max_redirects ?? 5))
        return {
          status: 'fail',
          value: res.status,
          message: `more than ${s.max_redirects ?? 5} redirects (${[url, ...hops].join(' → ')})`,
        };
      url = new URL(location, url).toString();
      hops.push(url);
    }
    const text = method === 'HEAD' ? '' : await res.text();
    const ms = performance.now() - started;
    const limits = { warn: s.warn_latency ?? 5_000, fail: s.fail_latency ?? 15_000 };
    const problems: string[] = [];
    let status: CheckStatus = judgeAbove(ms, limits);
    if (status !== 'ok') problems.push(`slow: ${formatDuration(ms)}`);
    if (!statusMatches(res.status, s.expect_status)) {
      status = 'fail';
      problems.push(`status ${res.status}, expected ${JSON.stringify(s.expect_status ?? '2xx')}`);
    }
    if (s.body_contains !== undefined && !text.includes(s.body_contains)) {
      status = 'fail';
      problems.push(`body does not contain ${JSON.stringify(s.body_contains)}`);
    }
    if (s.json) {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        doc = undefined;
      }
      const got = doc === undefined ? { found: false, value: undefined } : lookup(doc, s.json.path);
      if (doc === undefined) problems.push('body is not JSON');
      else if (!got.found) problems.push(`${s.json.path} is missing`);
      else if (got.value !== s.json.equals)
        problems.push(
          `${s.json.path} is ${JSON.stringify(got.value)}, expected ${JSON.stringify(s.json.equals)}`,
        );
      if (doc === undefined || !got.found || got.value !== s.json.equals) status = worst(status, 'fail');
    }
    return {
      status,
      value: Math.round(ms),
      unit: 'ms',
      thresholds: describeLimits(limits, '≥', formatDuration),
      message: `${method} ${s.url} → ${res.status} in ${formatDuration(ms)}${hops.length ? ` via ${hops.length} redirect${hops.length === 1 ? '' : 's'}` : ''}${problems.length ? `: ${problems.join('; ')}` : ''}`,
      details: {
        httpStatus: res.status,
        finalUrl: url,
        redirects: hops.length,
        bytes: Buffer.byteLength(text),
      },
      samples: [{ metric: 'latency_ms', value: Math.round(ms), unit: 'ms', better: 'lower' }],
    };
  },
});
