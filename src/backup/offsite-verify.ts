/**
 * Verify and restore of a copy. A verify streams the object from the bucket or SFTP server
 * through its SHA-256 (against the index or sidecar), decryption when it is encrypted, and the
 * same entry-by-entry check as a local archive, writing nothing. A restore (and a drill) streams
 * it into a private temp dir the same way, then reads it with the same code as a local archive,
 * with the same tar-slip protection; the temp dir is removed afterwards, whatever happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatSize } from '../core/size.js';
import { fetchRemote, openRemote, remoteMeta, type Fetched, type RemoteArchive } from './offsite.js';
import { CopyError, type CopyTarget } from './copy-target.js';
import { copyScheme, COPY_URL_FORMS } from './copy-url.js';
import { checkArchive, checkArchiveStream, describeProblems, type ArchiveCheck } from './verify-archive.js';

export interface RemoteCheck {
  readonly archive: RemoteArchive;
  readonly ok: boolean;
  /** false: encrypted and no identity given — only the ciphertext's checksum was checked. */
  readonly lookedInside: boolean;
  readonly entries: number;
  readonly problems: string[];
  readonly check?: ArchiveCheck;
}

/** `s3://bucket/prefix/NAME` (or `sftp://user@host/dir/NAME`) → the copy's URL and the archive name (`.age` dropped). */
export function splitCopyUrl(url: string): { copy: string; name: string } {
  const at = url.lastIndexOf('/');
  const copy = url.slice(0, at);
  const name = url.slice(at + 1).replace(/\.age$/, '');
  if (at <= 'sftp://'.length || !copyScheme(copy) || name === '')
    throw new CopyError(
      `${url}: expected ${COPY_URL_FORMS.replace(/ or /, '/ARCHIVE-NAME or ')}/ARCHIVE-NAME`,
    );
  return { copy, name };
}

/** Why the stored object is not what its index or sidecar says, or undefined. */
export function checksumProblem(f: Fetched): string | undefined {
  if (f.size !== f.expected.size)
    return `the stored object is ${formatSize(f.size)} (${f.size} bytes); its index says ${f.expected.size} bytes`;
  if (f.sha256 !== f.expected.sha256) return 'the stored object does not match its SHA-256';
  return undefined;
}

/** Streams a copy into a temp dir and runs `use` on the (decrypted) archive there. */
export async function withFetched<T>(
  t: CopyTarget,
  a: RemoteArchive,
  identities: readonly string[] | undefined,
  use: (f: Fetched) => Promise<T>,
  o: { parent?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const dir = mkdtempSync(join(o.parent ?? tmpdir(), 'caretaker-copy-'));
  try {
    const f = await fetchRemote(t, a, dir, identities, o.signal);
    return await use(f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Checks a fetched copy: the stored object's checksum, then (when readable) every entry. */
export async function inspectFetched(
  a: RemoteArchive,
  f: Fetched,
  o: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<RemoteCheck> {
  const bad = checksumProblem(f);
  const check =
    bad || !f.path ? undefined : await checkArchive(f.path, { signal: o.signal, onProgress: o.onProgress });
  return remoteResult(a, bad, check);
}

/**
 * A copy's verdict: the stored object's checksum problem alone when there is one (the entries
 * then say nothing of what was written), else what the check of its entries found, if it ran.
 */
function remoteResult(
  a: RemoteArchive,
  bad: string | undefined,
  check: ArchiveCheck | undefined,
): RemoteCheck {
  if (bad) return { archive: a, ok: false, lookedInside: false, entries: 0, problems: [bad] };
  if (!check) return { archive: a, ok: true, lookedInside: false, entries: 0, problems: [] };
  return {
    archive: a,
    ok: check.ok,
    lookedInside: true,
    entries: check.entries,
    problems: describeProblems(check, 20),
    check,
  };
}

/**
 * Verifies a copy as it downloads: the stored object's SHA-256 against its index or sidecar,
 * and (when it can be read: plain, or encrypted with `identities`) every entry against the
 * sidecar, decrypted and checked on the way — no temp file. When reading broke off on a damaged
 * archive, the object is read once more to its end, only hashed, so a copy damaged in storage
 * is still told from one that was written damaged.
 */
export async function verifyRemote(
  t: CopyTarget,
  a: RemoteArchive,
  identities: readonly string[] | undefined,
  o: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<RemoteCheck> {
  const meta = await remoteMeta(t, a, identities);
  const opened = await openRemote(t, a, meta.sidecar ? identities : undefined);
  let check: ArchiveCheck | undefined;
  try {
    if (opened.archive && meta.sidecar)
      check = await checkArchiveStream(
        a.url,
        opened.archive,
        a.size,
        { sidecar: meta.sidecar, text: meta.sidecarText! },
        { signal: o.signal, onProgress: o.onProgress },
      );
    else await pipeline(opened.counted, new PassThrough().resume(), { signal: o.signal });
  } catch (err) {
    opened.destroy();
    throw err;
  }
  let stored = opened.stored();
  if (!stored) {
    opened.destroy();
    const again = await openRemote(t, a, undefined);
    await pipeline(again.counted, new PassThrough().resume(), { signal: o.signal });
    stored = again.stored()!;
  }
  const bad = checksumProblem({ path: undefined, sidecar: meta.sidecar, ...stored, expected: meta.expected });
  return remoteResult(a, bad, check);
}

/** Fetches a copy, checks the stored object's checksum, and runs `use` on the archive. */
export async function withRemoteArchive<T>(
  t: CopyTarget,
  a: RemoteArchive,
  identities: readonly string[] | undefined,
  use: (path: string) => Promise<T>,
  o: { parent?: string; signal?: AbortSignal } = {},
): Promise<T> {
  if (a.encrypted && !identities)
    throw new CopyError(
      `${a.url} is encrypted: give the key with --identity FILE (or encrypt.identity_file)`,
    );
  return withFetched(
    t,
    a,
    identities,
    async (f) => {
      const bad = checksumProblem(f);
      if (bad) throw new CopyError(`${a.url}: ${bad}; nothing was restored`);
      return use(f.path!);
    },
    o,
  );
}
