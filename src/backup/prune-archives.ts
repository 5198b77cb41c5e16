/**
 * Retention at the destination: which archives of a task the keep rules drop, removing them
 * (with their sidecar and verify state), and clearing what a crashed run left behind.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { applyRetention, type KeepPolicy } from '../core/retention.js';
import { listArchiveFiles, parseArchiveName, type ArchiveFile } from './archive-name.js';
import { sidecarPathOf } from './manifest.js';
import { verifyStatePathOf } from './verify-state.js';

export interface PrunePlan {
  readonly keep: { readonly archive: ArchiveFile; readonly reasons: readonly string[] }[];
  readonly remove: ArchiveFile[];
}

export function planPrune(dest: string, task: string, policy: KeepPolicy): PrunePlan {
  const archives = listArchiveFiles(dest, task);
  const byName = new Map(archives.map((a) => [a.name, a]));
  const decision = applyRetention(
    archives.map((a) => ({ id: a.name, time: a.time + a.seq })), // seq orders two archives of one second
    policy,
  );
  return {
    keep: decision.keep.map((k) => ({ archive: byName.get(k.id)!, reasons: k.reasons })),
    remove: decision.remove.map((id) => byName.get(id)!),
  };
}

/** Removes an archive and its companions; returns the bytes freed. */
export function removeArchive(a: ArchiveFile): number {
  let freed = 0;
  for (const p of [a.path, sidecarPathOf(a.path), verifyStatePathOf(a.path)]) {
    try {
      freed += statSync(p).size;
      rmSync(p, { force: true });
    } catch {
      // already gone
    }
  }
  return freed;
}

function newestMtime(path: string): number {
  const st = statSync(path);
  let newest = st.mtimeMs;
  if (st.isDirectory())
    for (const name of readdirSync(path)) {
      try {
        newest = Math.max(newest, statSync(join(path, name)).mtimeMs);
      } catch {
        // removed meanwhile
      }
    }
  return newest;
}

/**
 * `<archive>.tmp` files and `<archive>.staging` dirs of this task that nothing has written to
 * for `idleMs`: left by a crash or a kill -9 (a live run keeps writing to them).
 */
export function findLeftovers(dest: string, task: string, now: number, idleMs: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dest);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const m = /^(.*)\.(tmp|staging)$/.exec(name);
    if (!m || parseArchiveName(m[1]!)?.task !== task) continue;
    const path = join(dest, name);
    try {
      if (now - newestMtime(path) >= idleMs) out.push(path);
    } catch {
      // removed meanwhile
    }
  }
  return out.sort();
}
