/**
 * Re-reads an archive and proves it holds what its manifest says: the file's SHA-256 against the
 * sidecar, then every entry's type, size, link target and SHA-256 against the manifest. Reports
 * missing, extra and corrupt entries by name. A flipped byte anywhere is caught: by the sidecar
 * checksum always, and by gzip's CRC or the entry's own SHA-256 as well.
 */
import { plural } from '../core/plural.js';
import {
  ArchiveReadError,
  readArchive,
  readArchiveStream,
  type ReadOptions,
  type ReadResult,
} from './archive-reader.js';
import { EntryHasher, sha256OfFile } from './file-hash.js';
import {
  MANIFEST_NAME,
  loadSidecar,
  parseManifest,
  sameEntries,
  entriesText,
  type Manifest,
  type ManifestEntry,
  type Sidecar,
  type SidecarRead,
} from './manifest.js';
import type { TarEntry, TarVisitor } from './tar-parser.js';

export interface Problem {
  readonly kind: 'missing' | 'extra' | 'corrupt' | 'archive';
  /** The entry concerned, when there is one. */
  readonly path?: string;
  readonly detail: string;
}

export interface ArchiveCheck {
  readonly archive: string;
  readonly ok: boolean;
  readonly sidecar: 'ok' | 'missing' | 'mismatch' | 'unreadable';
  readonly sha256: string | undefined;
  readonly entries: number;
  readonly bytes: number;
  /** All problems found (each kind capped at MAX_LISTED; `counts` has the totals). */
  readonly problems: readonly Problem[];
  readonly counts: Readonly<Record<Problem['kind'], number>>;
  /** The manifest the entries were checked against (the embedded one, else the sidecar). */
  readonly manifest: Manifest | undefined;
}

export interface CheckOptions {
  /** Check against this manifest instead of reading the sidecar (a backup verifying itself). */
  readonly expected?: Manifest;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

const MAX_LISTED = 50;
const MAX_MANIFEST = 512 * 1024 * 1024;

interface Seen {
  readonly type: string;
  readonly size: number;
  readonly sha256?: string;
  readonly linkpath: string;
}

function describeType(t: string): string {
  return t === 'File' ? 'file' : t === 'Directory' ? 'dir' : t === 'SymbolicLink' ? 'symlink' : t;
}

/** The manifest's verdict on one entry as read, or undefined when it matches. */
function compare(ref: ManifestEntry, seen: Seen): string | undefined {
  const type = describeType(seen.type);
  if (type !== ref.type) return `is a ${type} in the archive, a ${ref.type} in the manifest`;
  if (ref.type === 'file') {
    if (seen.size !== ref.size) return `size ${seen.size} in the archive, ${ref.size} in the manifest`;
    if (ref.sha256 && seen.sha256 !== ref.sha256)
      return `SHA-256 mismatch (content differs from the manifest)`;
  }
  if (ref.type === 'symlink' && seen.linkpath !== (ref.target ?? ''))
    return `link target differs from the manifest`;
  return undefined;
}

export async function checkArchive(path: string, opts: CheckOptions = {}): Promise<ArchiveCheck> {
  return checkReading(
    path,
    (visitor, o) => readArchive(path, visitor, o),
    opts.expected ? { state: 'missing' } : loadSidecar(path),
    () => sha256OfFile(path, opts.signal),
    opts,
  );
}

/**
 * The same check of an archive read as a stream (a copy as it downloads), against the sidecar
 * that came with it: nothing is written to disk. `label` names it in the result.
 */
export async function checkArchiveStream(
  label: string,
  source: AsyncIterable<Buffer>,
  size: number,
  sidecar: { readonly sidecar: Sidecar; readonly text: string },
  opts: Omit<CheckOptions, 'expected'> = {},
): Promise<ArchiveCheck> {
  return checkReading(
    label,
    (visitor, o) => readArchiveStream(source, size, visitor, o),
    { state: 'ok', ...sidecar },
    () => undefined,
    opts,
  );
}

async function checkReading(
  path: string,
  read: (visitor: TarVisitor, o: ReadOptions) => Promise<ReadResult>,
  sidecarRead: SidecarRead,
  /** The archive's SHA-256 when reading broke off (undefined: not known). */
  sha256Anyway: () => string | undefined,
  opts: CheckOptions,
): Promise<ArchiveCheck> {
  const problems: Problem[] = [];
  const counts = { missing: 0, extra: 0, corrupt: 0, archive: 0 };
  const add = (p: Problem) => {
    counts[p.kind]++;
    if (counts[p.kind] <= MAX_LISTED) problems.push(p);
  };

  let sidecar: Sidecar | undefined;
  let sidecarEntries: string | undefined;
  let sidecarState: ArchiveCheck['sidecar'] = 'missing';
  if (!opts.expected) {
    const read = sidecarRead;
    if (read.state === 'ok') {
      sidecar = read.sidecar;
      sidecarEntries = entriesText(read.text);
      sidecarState = 'ok';
    } else if (read.state === 'damaged') {
      sidecarState = 'unreadable';
      add({ kind: 'archive', detail: read.error.message });
    }
  }

  // With the manifest known before reading (the sidecar, or a backup checking itself), each entry
  // is compared as it streams past and only its path is kept; otherwise what was read is kept
  // until MANIFEST.json, the last entry, arrives.
  const early: Manifest | undefined = opts.expected ?? sidecar;
  const refs = early ? new Map(early.entries.map((e) => [e.path, e])) : undefined;
  const seen = new Map<string, Seen | true>();
  let current:
    | { entry: TarEntry; hash: EntryHasher | undefined; manifest: Buffer[] | undefined; size: number }
    | undefined;
  let embedded: Buffer | undefined;
  let readComplete = false;
  let sha256: string | undefined;
  let entries = 0;
  let bytes = 0;
  try {
    const r = await read(
      {
        entry(e) {
          entries++;
          const isManifest = e.path === MANIFEST_NAME && e.type === 'File';
          current = {
            entry: e,
            hash: e.type === 'File' ? new EntryHasher(e.size) : undefined,
            manifest: isManifest && e.size <= MAX_MANIFEST ? [] : undefined,
            size: 0,
          };
        },
        data(chunk) {
          const c = current!;
          c.hash?.update(chunk);
          c.manifest?.push(Buffer.from(chunk));
          c.size += chunk.length;
          bytes += chunk.length;
        },
        entryEnd() {
          const c = current!;
          const e = c.entry;
          if (c.manifest) {
            embedded = Buffer.concat(c.manifest);
            return;
          }
          if (seen.has(e.path)) add({ kind: 'extra', path: e.path, detail: 'appears twice in the archive' });
          const got = { type: e.type, size: e.size, sha256: c.hash?.digest(), linkpath: e.linkpath };
          const ref = refs?.get(e.path);
          if (!refs) seen.set(e.path, got);
          else {
            seen.set(e.path, true);
            const why = ref && compare(ref, got);
            if (why) add({ kind: 'corrupt', path: e.path, detail: why });
          }
        },
      },
      { signal: opts.signal, onProgress: opts.onProgress },
    );
    sha256 = r.sha256;
    readComplete = true;
  } catch (err) {
    if (!(err instanceof ArchiveReadError)) throw err;
    add({ kind: 'archive', path: err.entry, detail: err.message });
    // Still tell "changed after it was written" (storage) from "written damaged".
    if (sidecar) sha256 = sha256Anyway();
  }

  if (sidecar && sha256 !== undefined && sidecar.archive.sha256 !== sha256) {
    sidecarState = 'mismatch';
    add({
      kind: 'archive',
      detail: `the archive's SHA-256 differs from its sidecar manifest: the file changed after it was written`,
    });
  }

  let manifest: Manifest | undefined = opts.expected;
  let sameAsSidecar = false;
  if (!opts.expected && embedded) {
    const text = embedded.toString('utf8');
    if (sidecar && sidecarEntries !== undefined && entriesText(text) === sidecarEntries) {
      manifest = sidecar; // identical entries: no need to parse the second copy
      sameAsSidecar = true;
    } else {
      try {
        manifest = parseManifest(text);
      } catch (err) {
        add({ kind: 'archive', path: MANIFEST_NAME, detail: (err as Error).message });
      }
    }
  }
  if (!manifest && readComplete && !embedded)
    add({ kind: 'archive', detail: `no ${MANIFEST_NAME}: not a caretaker archive` });
  if (sidecar && embedded && !sameAsSidecar && manifest && !sameEntries(manifest, sidecar))
    add({ kind: 'archive', detail: 'the sidecar and the embedded manifest list different entries' });
  // Entries were checked against the sidecar when there was one; report against the same list.
  manifest = early ?? manifest;

  if (manifest) {
    const expectedPaths = new Set<string>();
    for (const ref of manifest.entries) {
      expectedPaths.add(ref.path);
      const got = seen.get(ref.path);
      if (!got) {
        if (readComplete)
          add({ kind: 'missing', path: ref.path, detail: 'listed in the manifest, not in the archive' });
        continue;
      }
      const why = got === true ? undefined : compare(ref, got);
      if (why) add({ kind: 'corrupt', path: ref.path, detail: why });
    }
    for (const p of seen.keys())
      if (!expectedPaths.has(p))
        add({ kind: 'extra', path: p, detail: 'in the archive, not in the manifest' });
    if (!readComplete) {
      const unread = manifest.entries.filter((e) => !seen.has(e.path)).length;
      if (unread > 0)
        add({
          kind: 'archive',
          detail: `${plural(unread, 'entry', 'entries')} after the damage could not be read`,
        });
    }
  }
  const total = counts.missing + counts.extra + counts.corrupt + counts.archive;
  return {
    archive: path,
    ok: total === 0,
    sidecar: sidecarState,
    sha256,
    entries,
    bytes,
    problems,
    counts,
    manifest,
  };
}

/** One line per problem, for summaries and the verify state. */
export function describeProblems(check: ArchiveCheck, max = 10): string[] {
  const lines = check.problems
    .slice(0, max)
    .map((p) => `${p.kind}: ${p.path ? `${p.path}: ` : ''}${p.detail}`);
  const total = check.counts.missing + check.counts.extra + check.counts.corrupt + check.counts.archive;
  if (total > lines.length) lines.push(`… and ${total - lines.length} more`);
  return lines;
}
