/**
 * `caretaker dashboard`: asks the running daemon (over its control socket, as this Unix user)
 * for a one-time login code and prints the dashboard's URL with it. The link logs one browser
 * in within 60 s, once; the session acts as the socket's caller (admin).
 */
import { UsageError } from '../../errors/usage-error.js';
import { locateDaemon, printJson, type GlobalOptions, type Io } from '../context.js';

/** The daemon's TCP address as a loopback URL: a wildcard listen address is reached on 127.0.0.1. */
export function loopbackUrl(http: string): string {
  const u = new URL(http);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

export async function dashboardCommand(opts: GlobalOptions, io: Io): Promise<number> {
  const { location, daemon } = await locateDaemon(opts);
  if (!daemon)
    throw new UsageError(
      `no caretaker daemon is running for ${location.file}: start it with caretaker start (with server.listen set) first`,
    );
  if (!daemon.info.http)
    throw new UsageError(
      `the daemon of ${location.file} serves no dashboard: set server: { listen: 127.0.0.1:8787 } there and restart it`,
    );
  const link = await daemon.call<{ path: string; expiresAt: number }>('POST', '/v1/dashboard/link');
  const url = `${loopbackUrl(daemon.info.http)}${link.path}`;
  if (opts.json) {
    printJson(io, { url, expiresAt: new Date(link.expiresAt).toISOString() });
    return 0;
  }
  io.out(url);
  io.err(
    'Open it within 60 s; it logs one browser in, once. Later: log in with a token (caretaker token create).',
  );
  return 0;
}
