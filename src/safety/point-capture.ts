/**
 * Turns the paths a walk found into manifest entries: files are stored as blobs (a few at once,
 * the work is I/O-bound), then made durable together before the manifest may refer to them.
 */
import { runInProcessGroup } from '../os/process-group.js';
import type { Clock } from '../core/clock.js';
import type { BlobStore } from './blob-store.js';
import type { PointIndex } from './point-index.js';
import { RollbackError } from './rollback-error.js';
import type { ManifestEntry } from './rollback-manifest.js';
import type { ScannedPath } from './tree-scan.js';

/** Files read and stored at once: a few in flight keep the disk busy. */
const PARALLELISM = 8;
const NEVER = new AbortController().signal;

export interface CaptureOptions {
  readonly signal?: AbortSignal;
  readonly clock: Clock;
  readonly killGraceMs: number;
  /** Wall time, as the file's own times are (not the engine's clock). */
  readonly fileTimeNow: () => number;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in the items' order. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function fileEntry(s: ScannedPath, sha256: string): ManifestEntry {
  const st = s.stats!;
  return {
    kind: 'file',
    path: s.path,
    sha256,
    size: st.size,
    mode: st.mode,
    mtimeMs: st.mtimeMs,
    uid: st.uid,
    gid: st.gid,
  };
}

function otherEntry(s: ScannedPath): ManifestEntry {
  const st = s.stats;
  switch (s.kind) {
    case 'absent':
      return { kind: 'absent', path: s.path };
    case 'symlink':
      return { kind: 'symlink', path: s.path, target: s.target! };
    case 'dir':
      return { kind: 'dir', path: s.path, mode: st!.mode, mtimeMs: st!.mtimeMs, uid: st!.uid, gid: st!.gid };
    default:
      throw new RollbackError(`${s.path} is a socket, FIFO or device; a rollback point cannot copy it`);
  }
}

/** `sync -f`: flushes the filesystem holding `dir` in one call (Linux coreutils). */
async function syncfs(dir: string, o: CaptureOptions): Promise<boolean> {
  const r = await runInProcessGroup({
    command: ['sync', '-f', dir],
    cwd: dir,
    env: process.env,
    signal: o.signal ?? NEVER,
    killGraceMs: o.killGraceMs,
    clock: o.clock,
  });
  return r.exitCode === 0;
}

/**
 * `index`: what earlier points read (see PointIndex): a file whose stat fields did not change is
 * not read again, and the store's blobs are known without a stat each.
 */
export async function capture(
  blobs: BlobStore,
  scanned: readonly ScannedPath[],
  o: CaptureOptions,
  index?: PointIndex,
): Promise<{ entries: ManifestEntry[]; addedBytes: number }> {
  const stored = index ? (sha: string) => index.hasBlob(sha) : undefined;
  let addedBytes = 0;
  const written: string[] = [];
  // Everything the index already knows is settled synchronously: an unchanged tree of 20,000
  // files then costs no promise per file; only what must be read goes through the pool.
  const entries = new Array<ManifestEntry>(scanned.length);
  const toRead: number[] = [];
  o.signal?.throwIfAborted();
  for (let i = 0; i < scanned.length; i++) {
    const s = scanned[i]!;
    const sha256 = s.kind === 'file' ? index?.knownSha(s.path, s.stats!) : undefined;
    if (sha256 !== undefined) entries[i] = fileEntry(s, sha256);
    else if (s.kind === 'file') toRead.push(i);
    else entries[i] = otherEntry(s);
  }
  await pool(toRead, PARALLELISM, async (i) => {
    o.signal?.throwIfAborted();
    const s = scanned[i]!;
    const readAt = o.fileTimeNow();
    const put = await blobs.put(s.path, { stored });
    addedBytes += put.added;
    if (put.written) written.push(put.written);
    index?.addBlob(put.sha256, put.size);
    index?.remember(s.path, s.stats!, put.sha256, readAt);
    entries[i] = fileEntry(s, put.sha256);
  });
  await blobs.flush(written, (dir) => syncfs(dir, o));
  return { entries, addedBytes };
}
