/**
 * A loopback npm registry for audit tests. On this machine the registry is reached through a
 * proxy that refuses POST /-/npm/v1/security/advisories/bulk (405), so npm's advisory service
 * cannot be used here: this server stands in for that one endpoint only, answering with the
 * advisories below. Every other request (packuments) is forwarded to the real registry, so npm
 * outdated, npm view and npm install behave as they do against registry.npmjs.org.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export const UPSTREAM = 'https://registry.npmjs.org';

/** Stand-in advisories modelled on the public GitHub advisories for these versions. */
export const ADVISORIES: Record<string, object[]> = {
  minimist: [
    {
      id: 1097677,
      url: 'https://github.com/advisories/GHSA-xvch-5gv4-984h',
      title: 'Prototype Pollution in minimist',
      severity: 'critical',
      vulnerable_versions: '<0.2.4 || >=1.0.0 <1.2.6',
      cwe: ['CWE-1321'],
      cvss: { score: 9.8, vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    },
  ],
  semver: [
    {
      id: 1101088,
      url: 'https://github.com/advisories/GHSA-c2qf-rxjj-qqgw',
      title: 'semver vulnerable to Regular Expression Denial of Service',
      severity: 'moderate',
      vulnerable_versions: '<5.7.2',
      cwe: ['CWE-1333'],
      cvss: { score: 5.3, vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L' },
    },
  ],
};

export interface AdvisoryRegistry {
  readonly url: string;
  /** Package names npm asked about in bulk requests. */
  readonly asked: string[];
  close(): Promise<void>;
}

export async function startAdvisoryRegistry(): Promise<AdvisoryRegistry> {
  const asked: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          if (req.method === 'POST' && req.url?.startsWith('/-/npm/v1/security/advisories/bulk')) {
            const raw = Buffer.concat(chunks);
            // npm sends the bulk request gzipped.
            const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString(
              'utf8',
            );
            const body = JSON.parse(text || '{}') as Record<string, string[]>;
            asked.push(...Object.keys(body));
            const out: Record<string, object[]> = {};
            for (const name of Object.keys(body)) if (ADVISORIES[name]) out[name] = ADVISORIES[name]!;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(out));
            return;
          }
          const upstream = await fetch(`${UPSTREAM}${req.url ?? '/'}`, {
            headers: { accept: String(req.headers.accept ?? 'application/json') },
          });
          const body = Buffer.from(await upstream.arrayBuffer());
          res.writeHead(upstream.status, {
            'content-type': upstream.headers.get('content-type') ?? 'application/json',
          });
          res.end(body);
        } catch (err) {
          res.writeHead(502);
          res.end(String(err));
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    asked,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
