/**
 * `tls`: the certificate a server presents — days until it expires (defaults: warn under 30,
 * fail under 7), whether its chain is trusted and whether it is valid for the host name. An
 * invalid certificate is still read and reported (what is wrong, and when it expires).
 */
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { z } from 'zod';
import { defineCheck, worst, type CheckStatus } from './check-types.js';
import { common } from './common-options.js';
import { port } from './tcp.js';
import { describeLimits, judgeBelow } from './thresholds.js';

const DAY = 86_400_000;

const schema = z.strictObject({
  host: z.string().min(1),
  port: port.optional().describe('@default 443'),
  servername: z.string().optional().describe('The name sent (SNI) and checked. @default host'),
  warn_days: z.number().min(0).optional().describe('@default 30'),
  fail_days: z.number().min(0).optional().describe('@default 7'),
  ca_file: z.string().optional().describe('A CA certificate (PEM) to trust besides the system ones.'),
  allow_invalid: z
    .boolean()
    .optional()
    .describe('Only warn (not fail) on an untrusted chain or a name mismatch. @default false'),
  ...common,
});

interface Peer {
  cert: PeerCertificate;
  authorized: boolean;
  authError: string | null;
  protocol: string | null;
}

// node:tls (with the crypto and net it pulls in) loads with the first tls check, not with the
// schema every config load reads.
const loadTls = () => import('node:tls');

async function handshake(
  host: string,
  p: number,
  servername: string,
  ca: Buffer | undefined,
  signal: AbortSignal,
): Promise<Peer> {
  const { connect } = await loadTls();
  return new Promise((resolve, reject) => {
    // rejectUnauthorized: false so that a bad certificate is read and reported, not just refused.
    const socket = connect({ host, port: p, servername, rejectUnauthorized: false, ca });
    const onAbort = () => socket.destroy(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      const peer: Peer = {
        cert: socket.getPeerCertificate(false),
        authorized: socket.authorized,
        authError: socket.authorizationError ? String(socket.authorizationError) : null,
        protocol: socket.getProtocol(),
      };
      socket.end();
      resolve(peer);
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    });
  });
}

export const tlsCheck = defineCheck({
  kind: 'tls',
  schema,
  defaultTimeoutMs: 10_000,
  nameOf: (s) => `${s.servername ?? s.host}:${s.port ?? 443}`,
  async run(s, ctx) {
    const servername = s.servername ?? s.host;
    const p = s.port ?? 443;
    let peer: Peer;
    try {
      const ca = s.ca_file ? readFileSync(ctx.resolvePath(s.ca_file)) : undefined;
      peer = await handshake(s.host, p, servername, ca, ctx.signal);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { status: 'fail', value: null, message: `${s.host}:${p}: ${e.code ?? e.message}` };
    }
    const { cert } = peer;
    if (!cert || !cert.valid_to)
      return { status: 'fail', value: null, message: `${s.host}:${p} presented no certificate` };
    const expires = Date.parse(cert.valid_to);
    const daysLeft = (expires - ctx.clock.now()) / DAY;
    const limits = { warn: s.warn_days ?? 30, fail: s.fail_days ?? 7 };
    const nameError = (await loadTls()).checkServerIdentity(servername, cert);
    const problems: string[] = [];
    let status: CheckStatus = daysLeft < 0 ? 'fail' : judgeBelow(daysLeft, limits);
    if (daysLeft < 0) problems.push('EXPIRED');
    const invalid = s.allow_invalid ? 'warn' : 'fail';
    // An expired certificate also fails chain validation; say it once.
    if (!peer.authorized && peer.authError !== 'CERT_HAS_EXPIRED') {
      problems.push(`chain not trusted (${peer.authError ?? 'unknown reason'})`);
      status = worst(status, invalid);
    }
    if (nameError) {
      problems.push(`not valid for ${servername}`);
      status = worst(status, invalid);
    }
    const days = Math.floor(daysLeft);
    return {
      status,
      value: Math.round(daysLeft * 10) / 10,
      unit: 'days',
      thresholds: describeLimits(limits, '<'),
      message: `${servername}: certificate expires ${new Date(expires).toISOString().slice(0, 10)} (${days >= 0 ? `in ${days} day${days === 1 ? '' : 's'}` : `${-days} day${days === -1 ? '' : 's'} ago`})${problems.length ? `; ${problems.join('; ')}` : ''}`,
      details: {
        validFrom: new Date(Date.parse(cert.valid_from)).toISOString(),
        validTo: new Date(expires).toISOString(),
        subject: cert.subject?.CN ?? null,
        issuer: cert.issuer?.CN ?? null,
        altNames: cert.subjectaltname ?? null,
        chainValid: peer.authorized,
        chainError: peer.authError,
        hostnameValid: nameError === undefined,
        protocol: peer.protocol,
      },
      samples: [{ metric: 'days_left', value: daysLeft, unit: 'days' }],
    };
  },
});
