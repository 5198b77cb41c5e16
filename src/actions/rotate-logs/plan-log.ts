/**
 * The steps that rotate ONE log, computed from a listing of its directory the way logrotate 3.21
 * computes them (prerotateSingleLog / rotateSingleLog / postrotateSingleLog), so that the names
 * and contents that result are the same. Pure: the listing and the time come in.
 */
import { basename } from 'node:path';
import { formatDate, type LogNames, parseDateSuffix } from './naming.js';
import type { ResolvedRotate } from './schema.js';
import type { CreateIds, StepBody } from './steps.js';

export interface Entry {
  readonly path: string;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly isFile: boolean;
  readonly isSymlink: boolean;
}

/** What exists now in the directories rotated generations live in, by absolute path. */
export type Listing = ReadonlyMap<string, Entry>;

export interface LogPlan {
  /** Before the move: compress the previous generation (delaycompress), expire, shift. */
  readonly before: StepBody[];
  /** The move itself (rename, create, copytruncate). */
  readonly rotate: StepBody[];
  /** After the move (and after postrotate/signal): compress the new generation, rotate 0. */
  readonly after: StepBody[];
  /** When the log cannot be rotated safely this time: why (it is then left as it is). */
  readonly blocked?: string;
  readonly warnings: string[];
  /** The rotated file name the log gets. */
  readonly rotatedTo: string;
}

export interface PlanLogInput {
  readonly log: string;
  readonly logEntry: Entry;
  readonly opts: ResolvedRotate;
  readonly names: LogNames;
  readonly listing: Listing;
  readonly now: number;
  /** Resolved ids for `create` (owner/group looked up, defaults from the log's own). */
  readonly create: CreateIds | undefined;
  /** Rotated files whose compression an earlier run put off: compressed before anything moves. */
  readonly pendingCompress: ReadonlySet<string>;
  /** Directories of olddir that must be created first. */
  readonly mkdirs: readonly { path: string; mode: number }[];
}

const DAY_SECONDS = 86_400;

/** logrotate: ((now - mtime) / DAY_SECONDS) > maxage, in whole seconds and integer days. */
function expired(e: Entry, now: number, maxageDays: number | undefined): boolean {
  if (maxageDays === undefined) return false;
  const ageSec = Math.floor(now / 1000) - Math.floor(e.mtimeMs / 1000);
  return Math.floor(ageSec / DAY_SECONDS) > maxageDays;
}

/** A tiny model of the directory so that later steps see what earlier ones did. */
class Model {
  readonly #files = new Map<string, Entry>();
  constructor(listing: Listing) {
    for (const [p, e] of listing) this.#files.set(p, e);
  }
  get(p: string): Entry | undefined {
    return this.#files.get(p);
  }
  has(p: string): boolean {
    return this.#files.has(p);
  }
  move(from: string, to: string): void {
    const e = this.#files.get(from);
    this.#files.delete(from);
    if (e) this.#files.set(to, { ...e, path: to });
  }
  /** Compression keeps the mtime (as logrotate's does) but makes a new file. */
  compress(from: string, to: string): void {
    const e = this.#files.get(from);
    this.#files.delete(from);
    if (e) this.#files.set(to, { ...e, path: to, ino: -1 });
  }
  remove(p: string): void {
    this.#files.delete(p);
  }
  paths(): string[] {
    return [...this.#files.keys()];
  }
}

const knownIno = (e: Entry | undefined) => (e && e.ino >= 0 ? { ino: e.ino } : {});

export function planLog(input: PlanLogInput): LogPlan {
  const { log, opts, names, now } = input;
  const m = new Model(input.listing);
  const before: StepBody[] = [];
  const rotate: StepBody[] = [];
  const after: StepBody[] = [];
  const warnings: string[] = [];
  const compress = opts.compress;
  const rotateCount = opts.rotate === 0 ? 1 : opts.rotate;

  for (const d of input.mkdirs) before.push({ kind: 'mkdir', path: d.path, mode: d.mode });

  // A generation we may compress must be a plain file; links and odd files are never read.
  const compressible = (p: string) => {
    const e = m.get(p);
    if (!e) return false;
    if (!e.isFile || e.isSymlink) {
      warnings.push(`${p} is not a regular file (a link?): left alone`);
      return false;
    }
    return true;
  };
  const addCompress = (src: string, dst: string, list: StepBody[], waitRelease = false) => {
    if (m.has(dst)) {
      warnings.push(`${dst} already exists: ${src} stays uncompressed so that neither is overwritten`);
      return false;
    }
    list.push({ kind: 'compress', src, dst, waitRelease });
    m.compress(src, dst);
    return true;
  };

  let finalName: string;
  if (!opts.dateext) {
    const plain1 = names.numbered(1, false);
    // delaycompress: the previous .1 is compressed now, before everything shifts. Without it, a
    // .1 left uncompressed (its compression was postponed last time) is caught up the same way.
    if (compress && m.has(plain1) && compressible(plain1))
      addCompress(plain1, names.numbered(1, true), before);
    // maxage and the shift, from the oldest kept generation down, as logrotate walks them.
    for (let i = rotateCount; i >= 1; i--) {
      const cur = names.numbered(i, compress);
      const e = m.get(cur);
      if (!e) continue;
      if (expired(e, now, opts.maxageDays)) {
        before.push({
          kind: 'delete',
          path: cur,
          why: `older than maxage ${opts.maxageDays}d`,
          ...knownIno(e),
        });
        m.remove(cur);
        continue;
      }
      const next = names.numbered(i + 1, compress);
      if (i === rotateCount || m.has(next)) {
        // Past the kept count: logrotate renames it to .N+1 and disposes of that; same result.
        const why = i === rotateCount ? `beyond rotate ${opts.rotate}` : `replaced by ${basename(cur)}`;
        const gone = i === rotateCount ? cur : next;
        before.push({ kind: 'delete', path: gone, why, ...knownIno(m.get(gone)) });
        m.remove(gone);
        if (i === rotateCount) continue;
      }
      before.push({ kind: 'rename', from: cur, to: next });
      m.move(cur, next);
    }
    const beyond = names.numbered(rotateCount + 1, compress);
    if (m.has(beyond)) {
      before.push({
        kind: 'delete',
        path: beyond,
        why: `beyond rotate ${opts.rotate}`,
        ...knownIno(m.get(beyond)),
      });
      m.remove(beyond);
    }
    finalName = plain1;
  } else {
    const suffixAt = opts.dateyesterday ? yesterdayNoon(now) : now;
    const suffix = formatDate(opts.dateformat, suffixAt);
    const dirs = dirsOf(m.paths(), names);
    // delaycompress (or compression put off last time): uncompressed dated generations first.
    if (compress) {
      const plainRe = names.datedPattern(false);
      for (const p of sortByDate(m.paths(), dirs, plainRe, opts.dateformat)) {
        if ((opts.delaycompress || input.pendingCompress.has(p)) && compressible(p))
          addCompress(p, `${p}${names.compExt}`, before);
      }
    }
    // Expire: keep rotate-1 old ones (the new one makes rotate), and none older than maxage.
    const re = names.datedPattern(compress);
    const dated = sortByDate(m.paths(), dirs, re, opts.dateformat);
    dated.forEach((p, i) => {
      const e = m.get(p)!;
      const tooMany = dated.length >= rotateCount && i <= dated.length - rotateCount;
      if (tooMany || expired(e, now, opts.maxageDays)) {
        const why = tooMany ? `beyond rotate ${opts.rotate}` : `older than maxage ${opts.maxageDays}d`;
        before.push({ kind: 'delete', path: p, why, ...knownIno(e) });
        m.remove(p);
      }
    });
    finalName = names.dated(suffix, false);
    const dest = names.dated(suffix, compress);
    if (m.has(dest) || m.has(finalName)) {
      return {
        before: [],
        rotate: [],
        after: [],
        warnings,
        rotatedTo: finalName,
        blocked: `${m.has(dest) ? dest : finalName} already exists (rotated once already in this ${describeFormat(opts.dateformat)}): not rotated again, nothing overwritten`,
      };
    }
  }

  if (m.has(finalName)) {
    return {
      before: [],
      rotate: [],
      after: [],
      warnings,
      rotatedTo: finalName,
      blocked: `${finalName} exists and could not be moved out of the way: not rotated, nothing overwritten`,
    };
  }

  if (opts.copytruncate) {
    if (opts.rotate === 0) rotate.push({ kind: 'truncate', log });
    else
      rotate.push({
        kind: 'copytruncate',
        log,
        to: finalName,
        ...(opts.pauseWriter ? { pausePidfile: opts.pauseWriter } : {}),
      });
  } else {
    rotate.push({ kind: 'move', log, to: finalName, ...(input.create ? { create: input.create } : {}) });
  }
  if (opts.rotate === 0) {
    if (!opts.copytruncate)
      after.push({ kind: 'delete', path: finalName, why: 'rotate 0 keeps no old logs' });
  } else if (compress && !opts.delaycompress) {
    after.push({
      kind: 'compress',
      src: finalName,
      dst: `${finalName}${names.compExt}`,
      waitRelease: !opts.copytruncate,
    });
  }
  return { before, rotate, after, warnings, rotatedTo: finalName };
}

function yesterdayNoon(now: number): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - 1, 12).getTime();
}

function describeFormat(format: string): string {
  if (format.includes('%s') || format.includes('%S')) return 'second';
  if (format.includes('%M')) return 'minute';
  if (format.includes('%H')) return 'hour';
  if (format.includes('%d')) return 'day';
  return 'period';
}

/** The directories that hold generations (the current rotDir and, with a dated olddir, older ones). */
function dirsOf(paths: readonly string[], names: LogNames): Set<string> {
  const dirs = new Set<string>([names.rotDir]);
  for (const p of paths) dirs.add(p.slice(0, p.lastIndexOf('/')));
  return dirs;
}

/** Paths whose base name matches `re`, oldest first by the date in their name (then by name). */
function sortByDate(paths: readonly string[], dirs: Set<string>, re: RegExp, format: string): string[] {
  const found: { p: string; t: number | undefined; name: string }[] = [];
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    if (!dirs.has(p.slice(0, slash))) continue;
    const name = p.slice(slash + 1);
    const mm = re.exec(name);
    if (mm) found.push({ p, t: parseDateSuffix(format, mm[1]!), name });
  }
  return found
    .sort((a, b) =>
      a.t !== undefined && b.t !== undefined && a.t !== b.t
        ? a.t - b.t
        : a.name < b.name
          ? -1
          : a.name > b.name
            ? 1
            : 0,
    )
    .map((f) => f.p);
}
