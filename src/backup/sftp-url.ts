/**
 * `sftp://[user@]host[:port]/abs/dir` as a copy's destination, parsed without loading ssh2 (the
 * config loader checks it for every backup task).
 */
export interface ParsedSftpUrl {
  /** undefined: the local user name, as ssh(1). */
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number;
  /** Absolute, without a trailing slash ('/' for the root). */
  readonly dir: string;
}

export function parseSftpUrl(url: string): ParsedSftpUrl | undefined {
  const m = /^sftp:\/\/(?:([^@/:\s]+)@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^\s]*)$/.exec(
    url,
  );
  if (!m) return undefined;
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const dir = m[4]!.replace(/\/+$/, '') || '/';
  if (dir.split('/').some((p) => p === '..' || p === '.')) return undefined;
  return { user: m[1], host: m[2]!.replace(/^\[|\]$/g, ''), port, dir };
}
