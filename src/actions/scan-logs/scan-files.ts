/**
 * One scan-logs run over its files: for each file, decide from the remembered state where to
 * start (continue, or from the start after a truncation or replacement, or from where another
 * identity of the same content stopped), scan the new bytes, and record where it stopped.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { expandPaths, walkRoot } from '../../safety/expand-paths.js';
import type { PathGuard } from '../../safety/path-guard.js';
import { fingerprint, FINGERPRINT_BYTES, MIN_ADOPT_BYTES, readHead, type FileRecord } from './file-state.js';
import { scanGzip } from './gzip-scan.js';
import type { ScanPlan, ScanSettings, Tally } from './line-scanner.js';
import { scanFileRange } from './parallel-scan.js';
import { findRenamed, isGzip, rotatedSiblings } from './rotated-files.js';
import { findTruncatedCopy } from './truncated-copy.js';

/** How a file's new bytes were found. */
export type StartReason = 'new' | 'continued' | 'truncated' | 'replaced' | 'adopted' | 'renamed' | 'done';

export interface FileScan {
  readonly path: string;
  readonly key: string;
  readonly reason: StartReason;
  /** For `adopted` / `renamed`: where the content was read before. */
  readonly previousPath?: string;
  readonly from: number;
  readonly to: number;
  readonly mtimeMs: number;
  readonly gz: boolean;
  readonly workers: number;
  /** Line number of the line at `from` minus one; -1 when unknown. */
  readonly lineBase: number;
  readonly tally: Tally | undefined;
}

export interface ScanRunInput {
  readonly plans: readonly ScanPlan[];
  readonly settings: ScanSettings;
  readonly signal: AbortSignal;
  readonly threads: number | undefined;
  readonly now: number;
  /** The state as the run found it (never modified: every lookup sees the same past). */
  readonly prev: Readonly<Record<string, FileRecord>>;
  /** The state as the run leaves it. */
  readonly next: Record<string, FileRecord>;
  warn(message: string): void;
  progress(bytes: number, label: string): void;
  /** Live files truncated since the last scan whose rotated copy was not found. */
  readonly unreadTruncations: string[];
}

/** Files named by `paths` (and their rotated generations when asked), never through a link out. */
export async function collectFiles(
  paths: readonly string[],
  includeRotated: boolean,
  baseDir: string,
  guard: PathGuard,
  warn: (m: string) => void,
): Promise<{ files: string[]; live: Set<string> }> {
  const files = new Set<string>();
  const live = new Set<string>();
  for (const pattern of paths) {
    const w = walkRoot(pattern, baseDir);
    const root = w.glob !== undefined ? w.dir : dirname(w.dir);
    const matches = await expandPaths([pattern], { baseDir });
    const candidates: string[] = [];
    for (const m of matches) {
      candidates.push(m);
      if (includeRotated) candidates.push(...(await rotatedSiblings(m)));
    }
    for (const m of candidates) {
      const exists = await stat(m).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!exists) {
        if (w.glob === undefined && m === w.dir) warn(`${pattern}: does not exist (yet)`);
        continue;
      }
      if (!(await guard.realInside(m, root))) {
        warn(`${m}: leads outside ${root} (a link?) or into caretaker's state dir; not read`);
        continue;
      }
      files.add(m);
      if (matches.includes(m)) live.add(m);
    }
  }
  return { files: [...files], live };
}

function parseKey(key: string): { dev: bigint; ino: bigint } {
  const [dev, ino] = key.split(':');
  return { dev: BigInt(dev!), ino: BigInt(ino!) };
}

/** A remembered file whose first bytes are `head`'s: the same content under another identity. */
function adoptable(
  prev: Readonly<Record<string, FileRecord>>,
  head: Buffer,
  gz: boolean | undefined,
): [string, FileRecord] | undefined {
  for (const [key, r] of Object.entries(prev)) {
    if (r.fpLen < MIN_ADOPT_BYTES || r.fpLen > head.length || (gz !== undefined && !!r.gz !== gz)) continue;
    if (fingerprint(head, r.fpLen) === r.fpHash) return [key, r];
  }
  return undefined;
}

function record(
  path: string,
  offset: number,
  lines: number,
  head: Buffer,
  now: number,
  gz?: boolean,
): FileRecord {
  const fpLen = Math.min(head.length, FINGERPRINT_BYTES);
  return { path, offset, lines, fpLen, fpHash: fingerprint(head, fpLen), seenAt: now, ...(gz ? { gz } : {}) };
}

function linesAfter(base: number, t: Tally | undefined, settings: ScanSettings): number {
  if (base < 0 || settings.sampleLines === 0) return -1;
  return base + (t?.lines ?? 0);
}

/**
 * Scans one file: none when it is not a regular file or was already scanned; two when it was
 * truncated since the last scan and its rotated copy holds lines that were not read yet.
 */
export async function scanOne(path: string, run: ScanRunInput, seen: Set<string>): Promise<FileScan[]> {
  const st = await stat(path, { bigint: true }).catch(() => undefined);
  if (!st?.isFile()) return [];
  const key = `${st.dev}:${st.ino}`;
  if (seen.has(key)) return []; // a hard link or a path named twice
  seen.add(key);
  const size = Number(st.size);
  const mtimeMs = Number(st.mtimeMs);
  const rec = run.prev[key];
  if (isGzip(path)) return [await scanCompressed(path, key, mtimeMs, rec, run)];

  const head = await readHead(path);
  let from = 0;
  let lineBase = 0;
  let reason: StartReason = 'new';
  let previousPath: string | undefined;
  if (rec && !rec.gz) {
    if (size < rec.offset) reason = 'truncated';
    else if (rec.fpLen > head.length || fingerprint(head, rec.fpLen) !== rec.fpHash) reason = 'replaced';
    else [from, lineBase, reason] = [rec.offset, rec.lines, 'continued'];
  } else if (!rec) {
    const a = adoptable(run.prev, head, false);
    if (a && a[1].offset <= size) {
      [from, lineBase, reason, previousPath] = [a[1].offset, a[1].lines, 'adopted', a[1].path];
    }
  }
  const out = [
    await scanPlain(path, key, size, mtimeMs, head, { from, lineBase, reason, previousPath }, run),
  ];
  if (rec && !rec.gz && (reason === 'truncated' || reason === 'replaced') && rec.offset > 0) {
    const copy = await scanTruncatedCopy(path, rec, run, seen);
    if (copy) out.push(copy);
  }
  return out;
}

/**
 * The lines written after the last scan and before a copytruncate are in the copy: read them
 * there, from where the last scan stopped. Without the copy they cannot be read; say so loudly.
 */
async function scanTruncatedCopy(
  live: string,
  rec: FileRecord,
  run: ScanRunInput,
  seen: Set<string>,
): Promise<FileScan | undefined> {
  const copy = await findTruncatedCopy(live, rec, seen);
  if (!copy) {
    run.unreadTruncations.push(live);
    run.warn(
      `${live}: truncated since the last scan, which had read ${rec.offset} bytes of it, and no rotated copy starting with those bytes was found (${basename(live)}.1, ${basename(live)}-DATE, .gz): lines written after that scan and before the truncation were not read`,
    );
    return undefined;
  }
  seen.add(copy.key);
  const start = { from: rec.offset, lineBase: rec.lines, reason: 'adopted' as const, previousPath: live };
  if (!copy.gz) return scanPlain(copy.path, copy.key, copy.size, copy.mtimeMs, copy.head, start, run);
  run.progress(0, copy.path);
  const r = await scanGzip(
    copy.path,
    run.plans,
    run.settings,
    FINGERPRINT_BYTES,
    () => ({ skip: rec.offset }),
    run.signal,
  );
  run.next[copy.key] = record(
    copy.path,
    r.total,
    linesAfter(rec.lines, r.tally, run.settings),
    copy.head,
    run.now,
    true,
  );
  return {
    path: copy.path,
    key: copy.key,
    ...start,
    to: r.total,
    mtimeMs: copy.mtimeMs,
    gz: true,
    workers: 0,
    tally: r.tally,
  };
}

async function scanPlain(
  path: string,
  key: string,
  size: number,
  mtimeMs: number,
  head: Buffer,
  start: { from: number; lineBase: number; reason: StartReason; previousPath?: string },
  run: ScanRunInput,
): Promise<FileScan> {
  let tally: Tally | undefined;
  let to = start.from;
  let workers = 0;
  if (size > start.from) {
    run.progress(size - start.from, path);
    const r = await scanFileRange(path, start.from, size, false, run.plans, run.settings, run.signal, {
      threads: run.threads,
    });
    [tally, to, workers] = [r.tally, r.endOffset, r.workers];
  }
  run.next[key] = record(path, to, linesAfter(start.lineBase, tally, run.settings), head, run.now);
  return { path, key, ...start, to, mtimeMs, gz: false, workers, tally };
}

async function scanCompressed(
  path: string,
  key: string,
  mtimeMs: number,
  rec: FileRecord | undefined,
  run: ScanRunInput,
): Promise<FileScan> {
  if (rec?.gz) {
    run.next[key] = { ...rec, path, seenAt: run.now };
    return {
      path,
      key,
      reason: 'done',
      from: rec.offset,
      to: rec.offset,
      mtimeMs,
      gz: true,
      workers: 0,
      lineBase: -1,
      tally: undefined,
    };
  }
  let adopted: FileRecord | undefined;
  let head = Buffer.alloc(0);
  run.progress(0, path);
  const r = await scanGzip(
    path,
    run.plans,
    run.settings,
    FINGERPRINT_BYTES,
    (h) => {
      head = Buffer.from(h.subarray(0, FINGERPRINT_BYTES));
      // Read, in part, while it was a plain file (before it was compressed)?
      adopted = adoptable(run.prev, head, false)?.[1];
      return { skip: adopted?.offset ?? 0 };
    },
    run.signal,
  );
  const lineBase = adopted ? adopted.lines : 0;
  run.next[key] = record(path, r.total, linesAfter(lineBase, r.tally, run.settings), head, run.now, true);
  return {
    path,
    key,
    reason: adopted ? 'adopted' : 'new',
    previousPath: adopted?.path,
    from: r.start.skip,
    to: r.total,
    mtimeMs,
    gz: true,
    workers: 0,
    lineBase,
    tally: r.tally,
  };
}

/**
 * Without `include_rotated`, a live file renamed by a rotation is not among the files named; its
 * last lines (written after the previous scan, before the rotation) are read where it went.
 */
export async function scanRenamed(
  live: ReadonlySet<string>,
  run: ScanRunInput,
  seen: Set<string>,
): Promise<FileScan[]> {
  const out: FileScan[] = [];
  for (const [key, r] of Object.entries(run.prev)) {
    if (r.gz || !live.has(r.path) || seen.has(key)) continue;
    const { dev, ino } = parseKey(key);
    const moved = await findRenamed(r.path, dev, ino);
    if (!moved) continue;
    const st = await stat(moved);
    seen.add(key);
    const head = await readHead(moved);
    if (r.fpLen > head.length || fingerprint(head, r.fpLen) !== r.fpHash || st.size < r.offset) continue;
    const scan = await scanPlain(
      moved,
      key,
      st.size,
      st.mtimeMs,
      head,
      { from: r.offset, lineBase: r.lines, reason: 'renamed', previousPath: r.path },
      run,
    );
    out.push(scan);
  }
  return out;
}
