/**
 * After a copytruncate rotation (logrotate's `copytruncate`, and caretaker's own rotate-logs with
 * it), the lines written between the last scan and the truncation are only in the copy. The copy
 * is found the way logrotate names it — `app.log.1`, `app.log-20261124`, compressed or not — and
 * recognised as the file that was read: at least as long as what was read, and starting with the
 * same bytes (the remembered fingerprint).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { fingerprint, FINGERPRINT_BYTES, readHead, type FileRecord } from './file-state.js';
import { isGzip, rotatedSiblings } from './rotated-files.js';

export interface TruncatedCopy {
  readonly path: string;
  readonly key: string;
  /** Plain copies only; a compressed copy's size is known once it is read. */
  readonly size: number;
  readonly mtimeMs: number;
  readonly gz: boolean;
  /** Its first bytes (decompressed). */
  readonly head: Buffer;
}

/** The first `n` decompressed bytes of a gzip file (or fewer, if it is shorter or damaged). */
async function gzipHead(path: string, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let len = 0;
  const stream = createReadStream(path).pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parts.push(chunk);
      len += chunk.length;
      if (len >= n) break;
    }
  } catch {
    // a damaged or partly written .gz: what was read so far decides
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts, len).subarray(0, n);
}

const matches = (head: Buffer, rec: FileRecord) =>
  rec.fpLen <= head.length && fingerprint(head, rec.fpLen) === rec.fpHash;

/**
 * The rotated copy of `live` as it was when `rec` was recorded, newest candidate first; undefined
 * when there is none (rotate 0, a copy moved elsewhere, or a truncation that was not a rotation).
 * Files in `seen` were read in this run already and are not candidates.
 */
export async function findTruncatedCopy(
  live: string,
  rec: FileRecord,
  seen: ReadonlySet<string>,
): Promise<TruncatedCopy | undefined> {
  const candidates: { path: string; key: string; size: number; mtimeMs: number }[] = [];
  for (const path of await rotatedSiblings(live)) {
    const st = await stat(path, { bigint: true }).catch(() => undefined);
    if (!st?.isFile()) continue;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) continue;
    candidates.push({ path, key, size: Number(st.size), mtimeMs: Number(st.mtimeMs) });
  }
  candidates.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const c of candidates) {
    const gz = isGzip(c.path);
    if (!gz && c.size < rec.offset) continue;
    const head = gz
      ? await gzipHead(c.path, FINGERPRINT_BYTES)
      : await readHead(c.path).catch(() => undefined);
    if (head && matches(head, rec)) return { ...c, gz, head };
  }
  return undefined;
}
