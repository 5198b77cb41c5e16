/**
 * The archives caretaker knows about — those in the destinations of the configured backup
 * tasks, or a directory given on the command line — with what their sidecars and verify
 * states say: size, age, files, last verification.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { listArchiveFiles, parseArchiveName, type ArchiveFile } from './archive-name.js';
import { loadSidecar } from './manifest.js';
import { readVerifyState, type VerifyState } from './verify-state.js';

export interface BackupDest {
  /** The backup task writing there; undefined for a directory given by hand. */
  readonly task: string | undefined;
  readonly dest: string;
}

export interface CatalogEntry extends ArchiveFile {
  readonly files: number | undefined;
  readonly bytesIn: number | undefined;
  readonly sidecar: 'ok' | 'missing' | 'unreadable';
  readonly verified: VerifyState | undefined;
}

export function describe(a: ArchiveFile): CatalogEntry {
  let sidecar: CatalogEntry['sidecar'] = 'missing';
  let files: number | undefined;
  let bytesIn: number | undefined;
  const read = loadSidecar(a.path);
  if (read.state === 'ok') {
    sidecar = 'ok';
    files = read.sidecar.files;
    bytesIn = read.sidecar.bytes;
  } else if (read.state === 'damaged') sidecar = 'unreadable';
  return { ...a, files, bytesIn, sidecar, verified: readVerifyState(a.path) };
}

/** Every archive in these destinations (each dest once), newest first. */
export function catalog(dests: readonly BackupDest[]): CatalogEntry[] {
  const seen = new Set<string>();
  const out: CatalogEntry[] = [];
  for (const d of dests) {
    for (const a of listArchiveFiles(d.dest, d.task)) {
      if (seen.has(a.path)) continue;
      seen.add(a.path);
      out.push(describe(a));
    }
  }
  return out.sort((a, b) => b.time - a.time || b.seq - a.seq);
}

/** An archive argument: a path to a file, or the name of an archive in one of the destinations. */
export function findArchive(arg: string, dests: readonly BackupDest[]): ArchiveFile | undefined {
  const direct = resolve(arg);
  if (existsSync(direct) && statSync(direct).isFile()) {
    const parsed = parseArchiveName(basename(direct));
    return {
      name: basename(direct),
      path: direct,
      task: parsed?.task ?? '',
      time: parsed?.time ?? statSync(direct).mtimeMs,
      seq: parsed?.seq ?? 1,
      compressed: parsed?.compressed ?? direct.endsWith('.gz'),
      size: statSync(direct).size,
    };
  }
  if (arg.includes('/')) return undefined;
  for (const d of dests) {
    const hit = listArchiveFiles(d.dest).find((a) => a.name === arg);
    if (hit) return hit;
  }
  return undefined;
}
