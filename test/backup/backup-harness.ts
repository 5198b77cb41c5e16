/**
 * Helpers for the backup tests: a caretaker on a real state dir running real backup tasks,
 * trees with awkward names, a tree comparison, and hand-crafted (hostile) archives.
 */
import {
  closeSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createCaretaker } from '../../src/create-caretaker.js';
import type { Caretaker } from '../../src/caretaker.js';
import { ArchiveFileOutput, ParallelGzipSink } from '../../src/backup/gzip-blocks.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  serializeManifest,
  writeSidecar,
  type ManifestEntry,
} from '../../src/backup/manifest.js';
import { TarWriter } from '../../src/backup/tar-writer.js';
import type { RunRecord } from '../../src/store/types.js';
import type { Clock } from '../../src/core/clock.js';
import { createHash } from 'node:crypto';

export function caretakerWith(dir: string, tasks: string, clock?: Clock): Caretaker {
  const text = `version: 1\nstate_dir: .caretaker\ntasks:\n${tasks}`;
  writeFileSync(join(dir, 'caretaker.yaml'), text);
  return createCaretaker({ configPath: join(dir, 'caretaker.yaml'), host: 'test-host', clock });
}

export async function runTask(ct: Caretaker, id: string, dryRun = false): Promise<RunRecord> {
  return ct.runNow(id, { dryRun });
}

export interface TreeItem {
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  readonly mtimeMs?: number;
  readonly content?: string;
  readonly target?: string;
}

/** Everything below `root` (relative paths), with content, mode and mtime (files/dirs). */
export function snapshotTree(root: string): Map<string, TreeItem> {
  const out = new Map<string, TreeItem>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = join(root, r);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out.set(r, { type: 'symlink', mode: 0, target: readlinkSync(abs) });
      else if (st.isDirectory()) {
        out.set(r, { type: 'dir', mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs) });
        walk(r);
      } else
        out.set(r, {
          type: 'file',
          mode: st.mode & 0o7777,
          mtimeMs: Math.floor(st.mtimeMs),
          content: readFileSync(abs).toString('base64'),
        });
    }
  };
  walk('');
  return out;
}

export interface CraftedEntry {
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink';
  readonly content?: string;
  readonly target?: string;
}

/**
 * Writes a gzip tar holding exactly these entries — hostile paths included — with a manifest
 * (inside and as a sidecar) that agrees with them, as an attacker who can write both would.
 * `manifestEntries` lets a test make the manifest lie.
 */
export async function craftArchive(
  path: string,
  entries: readonly CraftedEntry[],
  opts: { manifestEntries?: readonly CraftedEntry[]; sidecar?: boolean } = {},
): Promise<void> {
  const toManifest = (e: CraftedEntry): ManifestEntry => {
    const data = Buffer.from(e.content ?? '');
    return {
      path: e.path,
      type: e.type,
      size: e.type === 'file' ? data.length : 0,
      mode: e.type === 'dir' ? 0o755 : 0o644,
      mtime: Date.UTC(2026, 0, 1),
      ...(e.type === 'file' ? { sha256: createHash('sha256').update(data).digest('hex') } : {}),
      ...(e.type === 'symlink' ? { target: e.target } : {}),
    };
  };
  const manifest = {
    format: MANIFEST_FORMAT as typeof MANIFEST_FORMAT,
    version: 'test',
    host: 'attacker',
    task: 'crafted',
    createdAt: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    compression: 6 as const,
    files: entries.filter((e) => e.type === 'file').length,
    bytes: 0,
    entries: (opts.manifestEntries ?? entries).map(toManifest),
  };
  const fd = openSync(path, 'w');
  const out = new ArchiveFileOutput(fd);
  const writer = new TarWriter(new ParallelGzipSink(out, 6, 1));
  for (const e of entries) {
    const data = Buffer.from(e.content ?? '');
    const mtimeMs = Date.UTC(2026, 0, 1);
    if (e.type === 'dir')
      await writer.header({ path: e.path, type: 'Directory', size: 0, mode: 0o755, mtimeMs });
    else if (e.type === 'symlink')
      await writer.header({
        path: e.path,
        type: 'SymbolicLink',
        size: 0,
        mode: 0o777,
        mtimeMs,
        linkpath: e.target,
      });
    else {
      await writer.header({ path: e.path, type: 'File', size: data.length, mode: 0o644, mtimeMs });
      await writer.bufferData(data);
    }
  }
  const body = Buffer.from(serializeManifest(manifest));
  await writer.header({
    path: MANIFEST_NAME,
    type: 'File',
    size: body.length,
    mode: 0o600,
    mtimeMs: Date.now(),
  });
  await writer.bufferData(body);
  await writer.finish();
  closeSync(fd);
  if (opts.sidecar !== false)
    writeSidecar(path, { ...manifest, archive: { name: 'crafted', size: out.bytes, sha256: out.digest() } });
}
