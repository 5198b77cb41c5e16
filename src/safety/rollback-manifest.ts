/**
 * What a rollback point records: every file, directory and symlink under its paths with checksum,
 * mode, owner and mtime, the paths that did not exist yet (so a rollback deletes what was created),
 * the git state of the working trees, and every restore made from it. One JSON file per point.
 */
import type { GitState } from './git-state.js';

export type PointKind =
  /** Taken by the engine before a task with `rollback:` runs. */
  | 'task'
  /** Taken by an action around a change it may keep or undo (`ctx.withRollbackPoint`). */
  | 'scoped'
  /** Taken before a rollback restores another point, so that the rollback can be undone. */
  | 'pre-rollback';

export interface FileEntry {
  readonly kind: 'file';
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly uid: number;
  readonly gid: number;
}

export interface DirEntry {
  readonly kind: 'dir';
  readonly path: string;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly uid: number;
  readonly gid: number;
}

export interface SymlinkEntry {
  readonly kind: 'symlink';
  readonly path: string;
  readonly target: string;
}

/** A path named explicitly that did not exist when the point was taken. */
export interface AbsentEntry {
  readonly kind: 'absent';
  readonly path: string;
}

export type ManifestEntry = FileEntry | DirEntry | SymlinkEntry | AbsentEntry;

/** The paths a point covers, as the walk saw them. */
export interface PointPattern {
  /** Absolute path or glob. */
  readonly pattern: string;
  /** The directory every match lives under: restores never write outside it. */
  readonly anchor: string;
  /** Where the anchor really was (symlinks resolved) when the point was taken. */
  readonly realAnchor: string | null;
}

export interface RestoreRecord {
  readonly at: number;
  readonly reason: string;
  /** The history run that recorded the rollback, when there is one. */
  readonly runId: number | null;
  /** The point taken just before restoring: roll back to it to undo this rollback. */
  readonly preRollbackPoint: string | null;
  readonly restored: number;
  readonly deleted: number;
}

export interface PointManifest {
  readonly version: 1;
  readonly id: string;
  readonly kind: PointKind;
  readonly task: string | null;
  readonly runId: number | null;
  readonly host: string;
  /** What the point is for, in a few words. */
  readonly label: string;
  readonly createdAt: number;
  readonly patterns: readonly PointPattern[];
  readonly entries: readonly ManifestEntry[];
  readonly git: readonly GitState[];
  /** Files recorded and their total size. */
  readonly files: number;
  readonly bytes: number;
  /** Bytes of new blobs this point stored (what it cost beyond what was already kept). */
  readonly addedBytes: number;
  /** For a pre-rollback point: the point whose restore it protects. */
  readonly before: string | null;
  readonly restores: readonly RestoreRecord[];
}

/** A point's row in `list-rollbacks`. */
export interface PointSummary {
  readonly id: string;
  readonly kind: PointKind;
  readonly task: string | null;
  readonly runId: number | null;
  readonly label: string;
  readonly createdAt: number;
  readonly files: number;
  readonly bytes: number;
  readonly addedBytes: number;
  readonly git: readonly { root: string; head: string | null; branch: string | null; dirty: boolean }[];
  readonly restores: readonly RestoreRecord[];
  /** Set when the manifest cannot be read: the point cannot be restored. */
  readonly error?: string;
}

export function summarize(m: PointManifest): PointSummary {
  return {
    id: m.id,
    kind: m.kind,
    task: m.task,
    runId: m.runId,
    label: m.label,
    createdAt: m.createdAt,
    files: m.files,
    bytes: m.bytes,
    addedBytes: m.addedBytes,
    git: m.git.map((g) => ({ root: g.root, head: g.head, branch: g.branch, dirty: g.dirty })),
    restores: m.restores,
  };
}

/** `rb-12`; a bare `12` is accepted on the command line. */
export function normalizePointId(text: string): string | undefined {
  const m = /^(?:rb-)?(\d{1,9})$/.exec(text.trim());
  return m ? `rb-${Number(m[1])}` : undefined;
}

export function pointNumber(id: string): number {
  return Number(id.slice(3));
}
