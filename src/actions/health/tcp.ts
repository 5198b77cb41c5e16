/** `tcp`: host:port accepts a connection within the timeout. */
import { z } from 'zod';
import { duration } from '../../schema/values.js';
import { formatDuration } from '../../core/duration.js';
import { defineCheck } from './check-types.js';
import { common } from './common-options.js';
import { describeLimits, judgeAbove } from './thresholds.js';

export const port = z.number().int().min(1).max(65_535, { error: 'expected a port number 1-65535' });

/** Connects and resolves with the latency; rejects with the socket error. */
export async function tcpConnect(host: string, p: number, signal: AbortSignal): Promise<number> {
  // Loaded with the first check, not with the schema every config load reads.
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host, port: p });
    const onAbort = () => socket.destroy(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      const ms = performance.now() - started;
      socket.destroy();
      resolve(ms);
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    });
  });
}

export const tcpCheck = defineCheck({
  kind: 'tcp',
  schema: z.strictObject({
    host: z.string().min(1).describe('@default 127.0.0.1').optional(),
    port,
    warn_latency: duration().optional().describe('@default 1s'),
    fail_latency: duration().optional().describe('@default none (the timeout fails it)'),
    ...common,
  }),
  defaultTimeoutMs: 5_000,
  nameOf: (s) => `${s.host ?? '127.0.0.1'}:${s.port}`,
  async run(s, ctx) {
    const host = s.host ?? '127.0.0.1';
    try {
      const ms = await tcpConnect(host, s.port, ctx.signal);
      const limits = { warn: s.warn_latency ?? 1_000, fail: s.fail_latency };
      const status = judgeAbove(ms, limits);
      return {
        status,
        value: Math.round(ms),
        unit: 'ms',
        thresholds: describeLimits(limits, '≥', formatDuration),
        message: `${host}:${s.port} accepted a connection in ${formatDuration(ms)}`,
        samples: [{ metric: 'connect_ms', value: Math.round(ms), unit: 'ms', better: 'lower' }],
      };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return {
        status: 'fail',
        value: null,
        message: `cannot connect to ${host}:${s.port}: ${e.code ?? e.message}`,
      };
    }
  },
});
