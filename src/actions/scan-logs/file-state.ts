/**
 * What scan-logs remembers between runs, per file identity (device + inode): how far it has read,
 * how many lines that was, and a fingerprint of the file's first bytes. The fingerprint tells a
 * truncated-and-rewritten or recycled inode from the file that was read, and recognises a file
 * that was read before under another identity (a copytruncate copy, a compressed generation).
 * Written atomically (temp file, fsync, rename): a crash keeps the previous state whole.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../os/atomic-write.js';

export const STATE_FILE = 'scan-logs-state.json';
/** Bytes of a file's start hashed into its fingerprint. */
export const FINGERPRINT_BYTES = 4096;
/** A fingerprint shorter than this is too weak to recognise a file under another identity. */
export const MIN_ADOPT_BYTES = 64;
/** Records of files not seen for this long are forgotten. */
export const FORGET_AFTER_MS = 7 * 86_400_000;
const MAX_RECORDS = 10_000;

export interface FileRecord {
  /** Where the file was last seen. */
  path: string;
  /** Bytes read: always just after a newline, or the end of a complete (compressed) file. */
  offset: number;
  /** Lines before `offset`, or -1 when they were not counted (no samples were asked for). */
  lines: number;
  fpLen: number;
  fpHash: string;
  /** A compressed generation that has been read to its end. */
  gz?: boolean;
  seenAt: number;
}

export interface ScanState {
  version: 1;
  files: Record<string, FileRecord>;
}

export function fingerprint(head: Uint8Array, len: number): string {
  return createHash('sha256').update(head.subarray(0, len)).digest('hex').slice(0, 32);
}

/** The first FINGERPRINT_BYTES of a file. */
export async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(FINGERPRINT_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function loadState(dir: string): Promise<{ state: ScanState; note?: string }> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: { version: 1, files: {} } };
    throw err;
  }
  try {
    const state = JSON.parse(text) as ScanState;
    if (state.version !== 1 || typeof state.files !== 'object') throw new Error('unknown format');
    return { state };
  } catch (err) {
    return {
      state: { version: 1, files: {} },
      note: `${join(dir, STATE_FILE)} is unreadable (${(err as Error).message}); every file is read from its start`,
    };
  }
}

/** Keeps what this run saw, and what it did not see for less than FORGET_AFTER_MS. */
export function pruneState(state: ScanState, now: number): ScanState {
  const kept = Object.entries(state.files)
    .filter(([, r]) => now - r.seenAt < FORGET_AFTER_MS)
    .sort((a, b) => b[1].seenAt - a[1].seenAt)
    .slice(0, MAX_RECORDS);
  return { version: 1, files: Object.fromEntries(kept) };
}

export async function saveState(dir: string, state: ScanState): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(state)}\n`);
}
