/**
 * OpenSSH `known_hosts` as ssh(1) reads it, for the SFTP copies' host key check: plain and
 * hashed (`|1|salt|hash`, HashKnownHosts) host fields, `[host]:port` for ports other than 22,
 * comma-separated patterns with `*` / `?` and `!` negation, and `@revoked` lines.
 * `@cert-authority` lines are skipped (caretaker does not accept host certificates). No trust
 * on first use: a host that has no line is refused, as `StrictHostKeyChecking yes` does.
 */
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostLine {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  readonly hosts: string;
  readonly keyType: string;
  readonly key: Buffer;
}

export type HostKeyVerdict =
  | { readonly status: 'ok'; readonly line: number }
  | { readonly status: 'unknown' }
  | { readonly status: 'changed'; readonly lines: readonly number[] }
  | { readonly status: 'revoked'; readonly line: number };

export function parseKnownHosts(text: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) return;
    const fields = s.split(/\s+/);
    let marker: KnownHostLine['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields.shift() === '@revoked' ? 'revoked' : 'cert-authority';
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) return; // ssh skips bad lines too
    out.push({ line: i + 1, marker, hosts, keyType, key: Buffer.from(b64, 'base64') });
  });
  return out;
}

/** The name a host has in known_hosts: `host` on port 22, `[host]:port` elsewhere. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

/** Whether the host field of a line names `name` (as knownHostName gives it). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** `SHA256:…` as ssh-keygen -l prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const n = key.readUInt32BE(0);
  return key.subarray(4, 4 + n).toString('latin1');
}

/** The lines about this host (revoked ones included), in file order. */
export function linesFor(lines: readonly KnownHostLine[], host: string, port: number): KnownHostLine[] {
  const name = knownHostName(host, port);
  return lines.filter((l) => l.marker !== 'cert-authority' && hostFieldMatches(l.hosts, name));
}

export function checkHostKey(
  lines: readonly KnownHostLine[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const mine = linesFor(lines, host, port);
  const revoked = mine.find((l) => l.marker === 'revoked' && l.key.equals(key));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const trusted = mine.filter((l) => l.marker === undefined);
  const same = trusted.find((l) => l.key.equals(key));
  if (same) return { status: 'ok', line: same.line };
  // Only a line of the same key type says the key changed; another type may simply not be known.
  const type = keyTypeOf(key);
  const rivals = trusted.filter((l) => l.keyType === type);
  if (rivals.length > 0) return { status: 'changed', lines: rivals.map((l) => l.line) };
  return { status: 'unknown' };
}

const ALGORITHMS_OF: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * The host key algorithms to offer: those of the keys known for the host, so that a server with
 * several host keys answers with one we can check (what ssh(1) does). Undefined: none known.
 */
export function hostKeyAlgorithms(
  lines: readonly KnownHostLine[],
  host: string,
  port: number,
): string[] | undefined {
  const types = [
    ...new Set(
      linesFor(lines, host, port)
        .filter((l) => !l.marker)
        .map((l) => l.keyType),
    ),
  ];
  if (types.length === 0) return undefined;
  return types.flatMap((t) => ALGORITHMS_OF[t] ?? [t]);
}
