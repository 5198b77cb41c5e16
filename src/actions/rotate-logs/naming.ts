/**
 * Names of rotated logs, as logrotate makes them: `app.log.1`, `app.log.2.gz`,
 * `app.log-20261124.gz`, `app.1.log` with `extension .log`, all inside `olddir` when given.
 * Pure: dates come in as parameters and are read in the host's local time, like logrotate's.
 */
import { basename, dirname, isAbsolute, join } from 'node:path';

/** The strftime specifiers logrotate accepts in dateformat (others would not sort or glob). */
export const DATEFORMAT_SPECIFIERS = ['Y', 'm', 'd', 'H', 'M', 'S', 's', 'V'];

export const GZ = '.gz';

export function hasDatePlaceholders(text: string): boolean {
  return /%[YmdHMSsV]/.test(text);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** ISO 8601 week number (strftime's %V) of a local date. */
function isoWeek(d: Date): number {
  const t = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const day = (t.getDay() + 6) % 7; // Monday = 0
  t.setDate(t.getDate() - day + 3); // the Thursday of this week decides the year
  const firstThursday = new Date(t.getFullYear(), 0, 4);
  const fday = (firstThursday.getDay() + 6) % 7;
  firstThursday.setDate(firstThursday.getDate() - fday + 3);
  return 1 + Math.round((t.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
}

/** strftime for the specifiers of DATEFORMAT_SPECIFIERS, in local time; others stay as written. */
export function formatDate(format: string, at: number): string {
  const d = new Date(at);
  return format.replace(/%(.)/g, (whole, c: string) => {
    switch (c) {
      case 'Y':
        return String(d.getFullYear());
      case 'm':
        return pad(d.getMonth() + 1);
      case 'd':
        return pad(d.getDate());
      case 'H':
        return pad(d.getHours());
      case 'M':
        return pad(d.getMinutes());
      case 'S':
        return pad(d.getSeconds());
      case 's':
        return String(Math.floor(at / 1000));
      case 'V':
        return pad(isoWeek(d));
      default:
        return whole;
    }
  });
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regex source matching what `formatDate(format)` produces, with one group per specifier. */
export function dateRegexSource(format: string): string {
  let out = '';
  let last = 0;
  for (const m of format.matchAll(/%(.)/g)) {
    out += escapeRe(format.slice(last, m.index));
    const c = m[1]!;
    out +=
      c === 'Y'
        ? '(\\d{4})'
        : c === 's'
          ? '(\\d{9,11})'
          : 'YmdHMSV'.includes(c)
            ? '(\\d{2})'
            : escapeRe(m[0]);
    last = m.index + m[0].length;
  }
  return out + escapeRe(format.slice(last));
}

/**
 * The instant a date suffix stands for, to sort rotated logs oldest first (logrotate sorts them by
 * strptime of its dateformat). Undefined when the format has no usable fields.
 */
export function parseDateSuffix(format: string, text: string): number | undefined {
  const m = new RegExp(`^${dateRegexSource(format)}$`).exec(text);
  if (!m) return undefined;
  const specs = [...format.matchAll(/%(.)/g)]
    .map((x) => x[1]!)
    .filter((c) => DATEFORMAT_SPECIFIERS.includes(c));
  const f: Record<string, number> = {};
  specs.forEach((c, i) => (f[c] = Number(m[i + 1])));
  if (f.s !== undefined) return f.s * 1000;
  if (f.Y === undefined) return undefined;
  return new Date(f.Y, (f.m ?? 1) - 1, f.d ?? 1, f.H ?? 0, f.M ?? 0, f.S ?? 0).getTime();
}

export interface NamingOptions {
  readonly olddir: string | undefined;
  readonly extension: string | undefined;
  readonly compress: boolean;
  readonly dateformat: string;
}

/** Where and under which names one log's generations live. */
export class LogNames {
  /** The directory rotated files go to now (olddir with its date placeholders filled in). */
  readonly rotDir: string;
  /** The log's name without `extension`. */
  readonly stem: string;
  /** `extension` when the log's name ends with it, else ''. */
  readonly fileExt: string;
  readonly compExt: string;

  constructor(
    readonly log: string,
    readonly opts: NamingOptions,
    now: number,
  ) {
    this.rotDir = LogNames.olddirFor(log, opts.olddir, now);
    const base = basename(log);
    const ext = opts.extension;
    if (ext !== undefined && base.length > ext.length && base.endsWith(ext)) {
      this.stem = base.slice(0, -ext.length);
      this.fileExt = ext;
    } else {
      this.stem = base;
      this.fileExt = '';
    }
    this.compExt = opts.compress ? GZ : '';
  }

  /** olddir (relative to the log's directory), date placeholders filled in; the log's dir without one. */
  static olddirFor(log: string, olddir: string | undefined, now: number): string {
    if (olddir === undefined) return dirname(log);
    const dir = formatDate(olddir, now);
    return isAbsolute(dir) ? dir : join(dirname(log), dir);
  }

  /** The olddir template as an absolute path with placeholders kept (for retention across dirs). */
  static olddirTemplate(log: string, olddir: string): string {
    return isAbsolute(olddir) ? olddir : join(dirname(log), olddir);
  }

  /** `app.log.3` / `app.log.3.gz` / `app.3.log.gz`. */
  numbered(i: number, compressed: boolean): string {
    return join(this.rotDir, `${this.stem}.${i}${this.fileExt}${compressed ? this.compExt : ''}`);
  }

  /** `app.log-20261124` (+ .gz). */
  dated(suffix: string, compressed: boolean, dir = this.rotDir): string {
    return join(dir, `${this.stem}${suffix}${this.fileExt}${compressed ? this.compExt : ''}`);
  }

  /** Matches the base names of dated generations; group 1 is the date suffix. */
  datedPattern(compressed: boolean): RegExp {
    return new RegExp(
      `^${escapeRe(this.stem)}(${dateRegexSource(this.opts.dateformat)})${escapeRe(this.fileExt)}${compressed ? escapeRe(this.compExt) : ''}$`,
    );
  }
}

/** The hidden temp name a write to `target` goes through (same directory, so rename is atomic). */
export function tempNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.caretaker-tmp`);
}

/** The hidden name of the empty file that replaces a log with `create`. */
export function newLogNameFor(log: string): string {
  return join(dirname(log), `.${basename(log)}.caretaker-new`);
}
