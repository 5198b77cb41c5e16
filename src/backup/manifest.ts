/**
 * What an archive claims to hold: every entry's path, type, size, mode, mtime and SHA-256, plus
 * who made it. Stored twice — as `MANIFEST.json`, the archive's last entry, and as the sidecar
 * `<archive>.manifest.json`, which adds the SHA-256 of the archive file itself so that a changed
 * byte anywhere is caught before anything is decompressed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomicSync } from '../os/atomic-write.js';

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
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
/** uid/gid as chown takes them: 0 … 2^32-2 (-1, 2^32-1, means "leave it"; negative ones crash it). */
const isId = (v: unknown) => v === undefined || (isCount(v) && (v as number) <= 0xfffffffe);

/**
 * Why a manifest entry is malformed, or undefined. The head is checked by its zod schema; the
 * entries by hand, with the same strictness: for 100,000 entries this takes ~70 ms where a zod
 * array of objects takes 400–600 ms here, a noticeable part of a verify run.
 */
function entryProblem(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'is not an object';
  const r = e as Record<string, unknown>;
  if (typeof r.path !== 'string' || r.path === '') return 'has no path';
  if (typeof r.type !== 'string' || !TYPES.has(r.type)) return 'has an unknown type';
  if (!isCount(r.size)) return 'has a bad size (expected a whole number of bytes)';
  if (!isCount(r.mode) || (r.mode as number) > 0o177777) return 'has a bad mode';
  if (typeof r.mtime !== 'number' || !Number.isFinite(r.mtime)) return 'has a bad mtime';
  if (!isId(r.uid) || !isId(r.gid)) return 'has a bad uid or gid (expected 0 to 4294967294)';
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

/** A manifest (the sidecar, or MANIFEST.json) that cannot be used: bad input, exit 2. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  readonly exitCode = 2;
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
  if (text.trim() === '') throw new ManifestError(`${what} is empty`);
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

/** A sidecar's text (as read from a copy); throws ManifestError naming `what`. */
export function parseSidecar(text: string, what: string): Sidecar {
  return parseWith<Sidecar>(sidecarHeadSchema, text, what);
}

/** What reading an archive's sidecar found: the one reading list, verify and restore all use. */
export type SidecarRead =
  | { readonly state: 'missing' }
  | { readonly state: 'ok'; readonly sidecar: Sidecar; readonly text: string }
  /** Unreadable or not a valid manifest; `error` names the file and what is wrong. */
  | { readonly state: 'damaged'; readonly error: ManifestError };

export function loadSidecar(archivePath: string): SidecarRead {
  const path = sidecarPathOf(archivePath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'missing' };
    const why =
      code === 'EISDIR'
        ? 'is a directory, not a manifest file'
        : `cannot be read (${code ?? (err as Error).message})`;
    return { state: 'damaged', error: new ManifestError(`${path} ${why}`) };
  }
  try {
    return { state: 'ok', sidecar: parseWith<Sidecar>(sidecarHeadSchema, text, path), text };
  } catch (err) {
    if (err instanceof ManifestError) return { state: 'damaged', error: err };
    throw err;
  }
}

/** The sidecar, or undefined when there is none; throws ManifestError when it is damaged. */
export function readSidecar(archivePath: string): Sidecar | undefined {
  const read = loadSidecar(archivePath);
  if (read.state === 'damaged') throw read.error;
  return read.state === 'ok' ? read.sidecar : undefined;
}

const ENTRY_FIELDS = [
  'path',
  'type',
  'size',
  'mode',
  'mtime',
  'uid',
  'gid',
  'sha256',
  'target',
  'kind',
  'source',
] as const satisfies readonly (keyof ManifestEntry)[];

/**
 * Do two manifests list the same entries? Compared as parsed content, field by field, so a
 * sidecar re-indented (or re-serialized with its keys in another order) still matches.
 */
export function sameEntries(a: Manifest, b: Manifest): boolean {
  if (a.entries.length !== b.entries.length) return false;
  const byPath = new Map(a.entries.map((e) => [e.path, e]));
  for (const y of b.entries) {
    const x = byPath.get(y.path);
    if (!x || ENTRY_FIELDS.some((f) => x[f] !== y[f])) return false;
  }
  return true;
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
  writeFileAtomicSync(sidecarPathOf(archivePath), serializeManifest(sidecar), { mode: 0o600 });
}
