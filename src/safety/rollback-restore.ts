/**
 * Restoring a rollback point: verify every blob first (a damaged point is refused before anything
 * is touched, naming the file), take a point of the current state (so the rollback itself can be
 * rolled back), then put each file back atomically, recreate deleted ones, delete what was created
 * after the point, and reset modes and mtimes. Writes never go through a symlink out of the
 * point's directories.
 */
import { lstat, realpath, rename, rm, symlink, unlink, utimes, chmod } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { copyFileAtomic, tempPathFor } from '../os/atomic-write.js';
import { sha256File } from './blob-store.js';
import { currentHead } from './git-state.js';
import { isWithin } from './path-guard.js';
import type { DirEntry, FileEntry, ManifestEntry, PointManifest, SymlinkEntry } from './rollback-manifest.js';
import { RollbackError, type RollbackPoints } from './rollback-points.js';
import { scanPatterns, type ScannedPath } from './tree-scan.js';
import { makeDir } from '../os/make-dir.js';

export class RollbackCorruptError extends RollbackError {
  override name = 'RollbackCorruptError';
}

export interface RestoreOptions {
  readonly reason: string;
  readonly dryRun?: boolean;
  /** The history run recording this rollback. */
  readonly runId?: number | null;
  readonly signal?: AbortSignal;
}

export interface RestoreReport {
  readonly point: string;
  readonly dryRun: boolean;
  /** Taken just before restoring: `caretaker rollback <it>` undoes this rollback. */
  readonly preRollbackPoint: string | null;
  /** Files and links whose content was put back (changed or deleted since the point). */
  readonly restored: readonly string[];
  /** Paths created after the point, deleted. */
  readonly deleted: readonly string[];
  /** Directories recreated. */
  readonly dirsCreated: readonly string[];
  /** Entries whose content was already right (mode or mtime may have been reset). */
  readonly unchanged: number;
  readonly warnings: readonly string[];
  /** Every step, in order (what a dry run prints). */
  readonly plan: readonly string[];
}

const depth = (p: string) => p.split(sep).length;

interface Plan {
  deletes: ScannedPath[];
  mkdirs: DirEntry[];
  writes: (FileEntry | SymlinkEntry)[];
  metaFiles: FileEntry[];
  dirs: DirEntry[];
  unchanged: number;
  warnings: string[];
}

/** Current content hashes, when a point of the current state was just taken (saves a pass). */
type Known = ReadonlyMap<string, string>;

async function sameFile(entry: FileEntry, now: ScannedPath, known: Known): Promise<boolean> {
  if (now.kind !== 'file' || now.stats!.size !== entry.size) return false;
  return (known.get(entry.path) ?? (await sha256File(entry.path))) === entry.sha256;
}

async function makePlan(m: PointManifest, current: Map<string, ScannedPath>, known: Known): Promise<Plan> {
  const plan: Plan = {
    deletes: [],
    mkdirs: [],
    writes: [],
    metaFiles: [],
    dirs: [],
    unchanged: 0,
    warnings: [],
  };
  const recorded = new Map<string, ManifestEntry>(m.entries.map((e) => [e.path, e]));
  for (const now of current.values()) {
    if (now.kind === 'absent') continue;
    const was = recorded.get(now.path);
    if (now.kind === 'other') {
      if (!was || was.kind !== 'absent') continue;
      plan.warnings.push(`${now.path} is a socket, FIFO or device created after the point; left in place`);
      continue;
    }
    if (!was || was.kind === 'absent' || was.kind !== now.kind) plan.deletes.push(now);
  }
  for (const e of m.entries) {
    const now = current.get(e.path);
    const present = now && now.kind !== 'absent';
    if (e.kind === 'dir') {
      if (!present || now.kind !== 'dir') plan.mkdirs.push(e);
      plan.dirs.push(e);
      if (present && now.kind === 'dir') plan.unchanged++;
    } else if (e.kind === 'file') {
      if (present && (await sameFile(e, now, known))) {
        plan.unchanged++;
        const st = now.stats!;
        // Within a microsecond: utimes sets whole microseconds (libuv), so a time it put back
        // reads a fraction of a microsecond off the recorded nanoseconds, and a file restored
        // once never compared equal again.
        if ((st.mode & 0o7777) !== (e.mode & 0o7777) || Math.abs(st.mtimeMs - e.mtimeMs) >= 0.001)
          plan.metaFiles.push(e);
      } else plan.writes.push(e);
    } else if (e.kind === 'symlink') {
      if (present && now.kind === 'symlink' && now.target === e.target) plan.unchanged++;
      else plan.writes.push(e);
    }
  }
  plan.deletes.sort((a, b) => depth(b.path) - depth(a.path));
  plan.mkdirs.sort((a, b) => depth(a.path) - depth(b.path));
  plan.dirs.sort((a, b) => depth(b.path) - depth(a.path));
  return plan;
}

async function realOrNull(p: string): Promise<string | null> {
  try {
    return await realpath(p);
  } catch {
    return null;
  }
}

/**
 * Is the directory `path` lives in really where it was when the point was taken? A directory
 * swapped for a symlink since then would otherwise send a restore or a delete somewhere else.
 */
async function parentIsSafe(m: PointManifest, path: string): Promise<boolean> {
  const parent = dirname(path);
  const realParent = await realOrNull(parent);
  if (realParent === null) return true; // nothing there yet: it is created by us, then rechecked
  for (const p of m.patterns) {
    const realAnchor = p.realAnchor ?? (await realOrNull(p.anchor));
    if (realAnchor === null) continue;
    if (isWithin(parent, p.anchor) && isWithin(realParent, realAnchor)) return true;
    if (path === p.anchor && realParent === dirname(realAnchor)) return true;
  }
  return false;
}

async function assertSafe(m: PointManifest, path: string): Promise<void> {
  if (!(await parentIsSafe(m, path))) {
    throw new RollbackError(
      `refusing to restore ${path}: its directory now resolves outside the paths the point covers (a symlink?)`,
    );
  }
}

function planLines(p: Plan): string[] {
  return [
    ...p.deletes.map((d) => `delete ${d.path}${d.kind === 'dir' ? '/' : ''} (created after the point)`),
    ...p.mkdirs.map((d) => `recreate directory ${d.path}/`),
    ...p.writes.map((w) => (w.kind === 'file' ? `restore ${w.path}` : `relink ${w.path} -> ${w.target}`)),
    ...p.metaFiles.map((f) => `reset mode and mtime of ${f.path}`),
  ];
}

/** Checks every blob the point needs; throws RollbackCorruptError naming the files when one is bad. */
export async function verifyPoint(points: RollbackPoints, m: PointManifest): Promise<void> {
  const shas = [...new Set(m.entries.flatMap((e) => (e.kind === 'file' ? [e.sha256] : [])))];
  const status = new Map<string, 'ok' | 'missing' | 'corrupt'>();
  // Reading every blob is I/O-bound: a few at once keep the disk busy.
  for (let i = 0; i < shas.length; i += 8) {
    const batch = shas.slice(i, i + 8);
    const results = await Promise.all(batch.map((sha) => points.blobs.verify(sha)));
    batch.forEach((sha, j) => status.set(sha, results[j]!));
  }
  const bad: string[] = [];
  for (const e of m.entries) {
    if (e.kind !== 'file' || status.get(e.sha256) === 'ok') continue;
    const what = status.get(e.sha256) === 'missing' ? 'missing' : 'corrupt: checksum mismatch';
    bad.push(`${e.path} (its copy ${points.blobs.pathOf(e.sha256)} is ${what})`);
  }
  if (bad.length > 0) {
    throw new RollbackCorruptError(
      `rollback point ${m.id} is damaged and was not restored; nothing was changed. Bad: ${bad.slice(0, 5).join('; ')}${bad.length > 5 ? `; and ${bad.length - 5} more` : ''}`,
    );
  }
}

export async function restorePoint(
  points: RollbackPoints,
  id: string,
  opts: RestoreOptions,
): Promise<RestoreReport> {
  return points.locked(async () => {
    const m = await points.get(id);
    await verifyPoint(points, m);
    const current = await scanPatterns(m.patterns, points.guard, opts.signal);
    // The point of the current state comes first (a real rollback only): its hashes tell the plan
    // which files already match, so the tree is read once, not twice.
    const pre = opts.dryRun
      ? null
      : await points.takeLocked({
          paths: m.patterns.map((p) => p.pattern),
          baseDir: '/',
          kind: 'pre-rollback',
          task: m.task,
          runId: opts.runId ?? null,
          label: `state before rolling back to ${m.id}`,
          before: m.id,
          signal: opts.signal,
        });
    const known = new Map(
      pre?.entries.flatMap((e) => (e.kind === 'file' ? [[e.path, e.sha256] as const] : [])),
    );
    const plan = await makePlan(m, current, known);
    // Check before touching anything; a path under something about to be replaced (a directory
    // swapped for a link) is checked again once its directory has been recreated.
    const replaced = new Set(plan.deletes.map((d) => d.path));
    const underReplaced = (p: string) => {
      for (let q = dirname(p); q !== dirname(q); q = dirname(q)) if (replaced.has(q)) return true;
      return false;
    };
    for (const d of plan.deletes) if (!underReplaced(d.path)) await assertSafe(m, d.path);
    for (const w of [...plan.writes, ...plan.mkdirs]) if (!underReplaced(w.path)) await assertSafe(m, w.path);
    const warnings = [...plan.warnings];
    const runner = points.gitRunner(opts.signal);
    for (const g of m.git) {
      const now = await currentHead(runner, g.root);
      if (g.head && now.head !== g.head) {
        warnings.push(
          `HEAD of ${g.root} moved from ${g.head.slice(0, 12)} to ${now.head?.slice(0, 12) ?? '(none)'} since the point; files were restored, HEAD was left as it is (to move it back: git -C ${g.root} reset --soft ${g.head})`,
        );
      } else if (g.branch && now.branch !== g.branch) {
        warnings.push(
          `${g.root} was on branch ${g.branch} at the point and is on ${now.branch ?? 'a detached HEAD'} now`,
        );
      }
    }
    const base = {
      point: m.id,
      dryRun: opts.dryRun === true,
      restored: plan.writes.map((w) => w.path),
      deleted: plan.deletes.map((d) => d.path),
      dirsCreated: plan.mkdirs.map((d) => d.path),
      unchanged: plan.unchanged,
      warnings,
      plan: planLines(plan),
    };
    if (opts.dryRun) return { ...base, preRollbackPoint: null };

    await applyPlan(points, m, plan);
    await points.recordRestoreLocked(m.id, {
      at: points.opts.clock.now(),
      reason: opts.reason,
      runId: opts.runId ?? null,
      preRollbackPoint: pre!.id,
      restored: plan.writes.length,
      deleted: plan.deletes.length,
    });
    // The restored point and the new one stay, even when the limits would drop them.
    const retention = await points.retainLocked(new Set([m.id, pre!.id]));
    if (retention.pointsDeleted.length > 0)
      warnings.push(`retention deleted ${retention.pointsDeleted.join(', ')} to stay within the limits`);
    return { ...base, preRollbackPoint: pre!.id };
  }, opts.signal);
}

async function applyPlan(points: RollbackPoints, m: PointManifest, plan: Plan): Promise<void> {
  for (const d of plan.deletes) {
    await assertSafe(m, d.path);
    if (points.guard.isProtected(d.path)) continue;
    if (d.kind === 'dir') await rm(d.path, { recursive: true, force: true });
    else
      await unlink(d.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
  }
  for (const d of plan.mkdirs) {
    await assertSafe(m, d.path);
    await makeDir(d.path, { mode: d.mode & 0o7777 });
  }
  for (const w of plan.writes) {
    await makeDir(dirname(w.path));
    await assertSafe(m, w.path);
    if (w.kind === 'file') {
      await copyFileAtomic(points.blobs.pathOf(w.sha256), w.path, w);
    } else {
      const tmp = tempPathFor(w.path);
      await symlink(w.target, tmp);
      await rename(tmp, w.path);
    }
  }
  for (const f of plan.metaFiles) {
    await chmod(f.path, f.mode & 0o7777);
    await utimes(f.path, f.mtimeMs / 1000, f.mtimeMs / 1000);
  }
  // Deepest first: restoring a file changes its directory's mtime, so directories come last.
  for (const d of plan.dirs) {
    const st = await lstat(d.path).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    if ((st.mode & 0o7777) !== (d.mode & 0o7777)) await chmod(d.path, d.mode & 0o7777);
    await utimes(d.path, d.mtimeMs / 1000, d.mtimeMs / 1000);
  }
}
