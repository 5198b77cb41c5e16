/**
 * Writes walked files, directories and links (and staged database copies) into a TarWriter and
 * builds the manifest entry of each: what was really stored, hashed as it streamed past. Files
 * are opened with O_NOFOLLOW, so a file swapped for a symlink since the walk is skipped rather
 * than followed out of the configured roots.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync } from 'node:fs';
import type { ManifestEntry } from './manifest.js';
import type { TarWriter } from './tar-writer.js';
import type { TreeEntry } from './tree-walk.js';

export interface PackItem extends TreeEntry {
  readonly kind?: ManifestEntry['kind'];
  readonly source?: string;
}

export interface PackProgress {
  (bytesDone: number, label: string): void;
}

export interface PackOutcome {
  readonly entries: ManifestEntry[];
  readonly files: number;
  readonly bytes: number;
  readonly warnings: string[];
}

const MAX_WARNINGS = 20;

function openError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'was removed during the backup';
  if (code === 'ELOOP') return 'was replaced by a symlink during the backup; not followed';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${code ?? String(err)})`;
}

export async function packEntries(
  writer: TarWriter,
  items: readonly PackItem[],
  opts: { signal?: AbortSignal; onProgress?: PackProgress },
): Promise<PackOutcome> {
  const entries: ManifestEntry[] = [];
  const warnings: string[] = [];
  let skippedWarnings = 0;
  const warn = (text: string) => {
    if (warnings.length < MAX_WARNINGS) warnings.push(text);
    else skippedWarnings++;
  };
  let files = 0;
  let bytes = 0;
  for (const item of items) {
    opts.signal?.throwIfAborted();
    if (item.type === 'dir') {
      await writer.header({
        path: item.path,
        type: 'Directory',
        size: 0,
        mode: item.mode,
        uid: item.uid,
        gid: item.gid,
        mtimeMs: item.mtimeMs,
      });
      entries.push({
        path: item.path,
        mode: item.mode,
        uid: item.uid,
        gid: item.gid,
        type: 'dir',
        size: 0,
        mtime: item.mtimeMs,
      });
      continue;
    }
    if (item.type === 'symlink') {
      let target: string;
      try {
        target = readlinkSync(item.abs);
      } catch (err) {
        warn(`${item.abs} ${openError(err)}`);
        continue;
      }
      await writer.header({
        path: item.path,
        type: 'SymbolicLink',
        size: 0,
        mode: item.mode,
        uid: item.uid,
        gid: item.gid,
        mtimeMs: item.mtimeMs,
        linkpath: target,
      });
      entries.push({
        path: item.path,
        mode: item.mode,
        uid: item.uid,
        gid: item.gid,
        type: 'symlink',
        size: 0,
        mtime: item.mtimeMs,
        target,
      });
      continue;
    }
    let fd: number;
    try {
      // O_NONBLOCK: a file swapped for a FIFO since the walk must not hang the backup.
      fd = openSync(item.abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      warn(`${item.abs} ${openError(err)}`);
      continue;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) {
        warn(`${item.abs} is no longer a regular file; skipped`);
        continue;
      }
      // A staged database copy is archived under its database's path, mode and time.
      const mode = item.kind ? item.mode : st.mode & 0o7777;
      const uid = item.kind ? item.uid : st.uid;
      const gid = item.kind ? item.gid : st.gid;
      const mtime = item.kind ? item.mtimeMs : st.mtimeMs;
      await writer.header({ path: item.path, type: 'File', size: st.size, mode, uid, gid, mtimeMs: mtime });
      // Between blocks of a big file: report progress, and stop promptly on a timeout or cancel.
      const copy = await writer.fileData(fd, st.size, () => {
        opts.signal?.throwIfAborted();
        opts.onProgress?.(bytes, item.path);
      });
      if (copy.got < st.size || copy.grew)
        warn(`${item.abs} changed while it was read; its archived copy may be inconsistent`);
      const entry: ManifestEntry = {
        path: item.path,
        mode,
        uid,
        gid,
        type: 'file',
        size: st.size,
        mtime,
        sha256: copy.sha256,
      };
      entries.push(
        item.kind ? { ...entry, kind: item.kind, ...(item.source ? { source: item.source } : {}) } : entry,
      );
      files++;
      bytes += st.size;
    } finally {
      closeSync(fd);
    }
    opts.onProgress?.(bytes, item.path);
  }
  if (skippedWarnings > 0) warnings.push(`… and ${skippedWarnings} more files skipped or changed`);
  return { entries, files, bytes, warnings };
}
