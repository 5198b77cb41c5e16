/**
 * What an archive claims to hold: every entry's path, type, size, mode, mtime and SHA-256, plus
 * who made it. Stored twice — as `MANIFEST.json`, the archive's last entry, and as the sidecar
 * `<archive>.manifest.json`, which adds the SHA-256 of the archive file itself so that a changed
 * byte anywhere is caught before anything is decompressed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from './atomic-write.js';

export const MANIFEST_NAME = 'MANIFEST.json';
export const MANIFEST_FORMAT = 'caretaker-backup/1';

export interface ManifestEntry {
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink';
  readonly size: number;
  readonly mode: number;
  /** Milliseconds since the epoch. */
  readonly mtime: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Files only. */
  readonly sha256?: string;
  /** Symlinks only. */
  readonly target?: string;
  /** Set for database copies: `sqlite` (online backup API) or `postgres` (pg_dump, custom format). */
  readonly kind?: 'sqlite' | 'postgres';
  /** Where a database copy came from (a PostgreSQL URL with its password masked). */
  readonly source?: string;
}

const headSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.string(),
  host: z.string(),
  task: z.string(),
  createdAt: z.string(),
  compression: z.union([z.number().int().min(0).max(9), z.literal('none')]),
  files: z.number().int().min(0),
  bytes: z.number().int().min(0),
  entries: z.array(z.unknown()),
});

const sidecarHeadSchema = headSchema.extend({
  archive: z.object({
    name: z.string(),
    size: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
});

const SHA256 = /^[0-9a-f]{64}$/;
const TYPES = new Set(['file', 'dir', 'symlink']);
const KINDS = new Set(['sqlite', 'postgres']);
const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Why a manifest entry is malformed, or undefined. Checked by hand rather than by a schema: a
 * manifest of 100,000 entries is validated in milliseconds instead of a noticeable part of a
 * verify run.
 */
function entryProblem(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return 'is not an object';
  const r = e as Record<string, unknown>;
  if (typeof r.path !== 'string' || r.path === '') return 'has no path';
  if (typeof r.type !== 'string' || !TYPES.has(r.type)) return 'has an unknown type';
  if (!isCount(r.size) || !isCount(r.mode) || typeof r.mtime !== 'number')
    return 'has a bad size, mode or mtime';
  if ((r.uid !== undefined && !Number.isInteger(r.uid)) || (r.gid !== undefined && !Number.isInteger(r.gid)))
    return 'has a bad uid or gid';
  if (r.sha256 !== undefined && (typeof r.sha256 !== 'string' || !SHA256.test(r.sha256)))
    return 'has a bad sha256';
  if (r.target !== undefined && typeof r.target !== 'string') return 'has a bad link target';
  if (r.kind !== undefined && (typeof r.kind !== 'string' || !KINDS.has(r.kind)))
    return 'has an unknown kind';
  if (r.source !== undefined && typeof r.source !== 'string') return 'has a bad source';
  return undefined;
}

export type Manifest = Omit<z.infer<typeof headSchema>, 'entries'> & { readonly entries: ManifestEntry[] };
export type Sidecar = Manifest & { readonly archive: z.infer<typeof sidecarHeadSchema>['archive'] };

export class ManifestError extends Error {
  override name = 'ManifestError';
}

export function sidecarPathOf(archivePath: string): string {
  return `${archivePath}.manifest.json`;
}

/** One entry per line: a sidecar of 100,000 files stays greppable and diffable. */
export function serializeManifest(m: Manifest | Sidecar): string {
  const { entries, ...head } = m;
  const top = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  return `${top},\n  "entries": [\n${entries.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]\n}\n`;
}

function parseWith<T>(schema: z.ZodType, text: string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`${what} is not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ManifestError(
      `${what} is not a caretaker manifest: ${issue.path.join('.') || '(top)'} ${issue.message}`,
    );
  }
  const entries = (parsed.data as { entries: unknown[] }).entries;
  for (let i = 0; i < entries.length; i++) {
    const why = entryProblem(entries[i]);
    if (why) throw new ManifestError(`${what} is not a caretaker manifest: entries.${i} ${why}`);
  }
  return parsed.data as T;
}

export function parseManifest(text: string, what = MANIFEST_NAME): Manifest {
  return parseWith<Manifest>(headSchema, text, what);
}

/** The sidecar of an archive and its text, or undefined when there is none. Throws when unreadable. */
export function readSidecarText(archivePath: string): { sidecar: Sidecar; text: string } | undefined {
  const path = sidecarPathOf(archivePath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return { sidecar: parseWith<Sidecar>(sidecarHeadSchema, text, path), text };
}

export function readSidecar(archivePath: string): Sidecar | undefined {
  return readSidecarText(archivePath)?.sidecar;
}

const ENTRIES_MARK = '\n  "entries": [\n';

/**
 * The entries part of a serialized manifest. The sidecar and MANIFEST.json come from the same
 * serializer, so equal entry lists give equal text: comparing it spares parsing the second copy.
 */
export function entriesText(text: string): string | undefined {
  const at = text.indexOf(ENTRIES_MARK);
  return at < 0 ? undefined : text.slice(at);
}

export function writeSidecar(archivePath: string, sidecar: Sidecar): void {
  // Same mode as the archive: the list of files can be as private as their content.
  writeFileAtomic(sidecarPathOf(archivePath), serializeManifest(sidecar), 0o600);
}
