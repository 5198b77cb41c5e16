/**
 * One logrotate directive applied to the directives in effect (a stanza's, or the global
 * defaults): what it sets, what it warns about, which directives we read but cannot carry over.
 */

export interface ConfigReader {
  readText(path: string): string;
  isDirectory(path: string): boolean;
  list(dir: string): string[];
  /**
   * What a path is when it is not a regular file ('a FIFO', 'a device'), else undefined: such a
   * file is skipped, as logrotate skips it — reading /dev/zero or a FIFO would never end.
   */
  notRegular?(path: string): string | undefined;
}

/** Where a directive came from, for warnings. */
export interface Where {
  readonly file: string;
  readonly line: number;
}

export type Criterion =
  { kind: 'size'; bytes: number } | { kind: 'frequency'; value: string; weekday?: number };

/** The directives in effect for a stanza (or the global defaults), as logrotate holds them. */
export interface Directives {
  criterion?: Criterion;
  minsize?: number;
  maxsize?: number;
  rotate?: number;
  maxage?: number;
  compress?: boolean;
  compressOptions?: string;
  compressCmd?: string;
  compressExt?: string;
  delaycompress?: boolean;
  copytruncate?: boolean;
  copy?: boolean;
  create?: false | { mode?: string; owner?: string; group?: string };
  dateext?: boolean;
  dateformat?: string;
  dateyesterday?: boolean;
  extension?: string;
  olddir?: string | false;
  missingok?: boolean;
  ifempty?: boolean;
  sharedscripts?: boolean;
  scripts: Record<string, string>;
  /** Directives we read but cannot carry over: name -> where (first use). */
  unsupported: Record<string, Where & { text: string }>;
}

export interface Stanza {
  readonly paths: string[];
  readonly where: Where;
  readonly directives: Directives;
}

export interface ParseResult {
  readonly stanzas: Stanza[];
  readonly warnings: string[];
}

const SCRIPT_KEYWORDS = new Set(['prerotate', 'postrotate', 'firstaction', 'lastaction', 'preremove']);
const FREQUENCIES = new Set(['hourly', 'daily', 'weekly', 'monthly', 'yearly']);
/** Directives that have no equivalent: they are reported, never silently dropped. */
const UNSUPPORTED = new Set([
  'su',
  'mail',
  'mailfirst',
  'maillast',
  'copy',
  'renamecopy',
  'shred',
  'shredcycles',
  'start',
  'minage',
  'tabooext',
  'taboopat',
  'addextension',
  'datehourago',
  'nocreateolddir',
  'createolddir',
  'compresscmd',
  'uncompresscmd',
  'compressext',
  'allowhardlink',
]);
const IGNORED = new Set([
  'nomail',
  'noshred',
  'nocopy',
  'norenamecopy',
  'ignoreduplicates',
  'noallowhardlink',
  'nodateyesterday',
]);

export function emptyDirectives(): Directives {
  return { scripts: {}, unsupported: {} };
}

export function cloneDirectives(d: Directives): Directives {
  return {
    ...d,
    create: d.create === undefined || d.create === false ? d.create : { ...d.create },
    scripts: { ...d.scripts },
    unsupported: { ...d.unsupported },
  };
}

/** logrotate sizes: a number of bytes, or with k, M, G (1024-based). */
export function parseLogrotateSize(text: string): number | undefined {
  const m = /^\+?(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(text);
  if (!m) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * mult);
}

/** Splits a line into words, honouring quotes, with `{` and `}` as words of their own. */
export function applyDirective(
  name: string,
  args: string[],
  where: Where,
  d: Directives,
  global: boolean,
  warn: (line: number, text: string) => void,
  startScript: (name: string) => void,
  include: (target: string) => void,
): void {
  // logrotate also accepts `key = value` and `key=value`.
  if (name.includes('=')) {
    const [k, ...rest] = name.split('=');
    return applyDirective(
      k!,
      [...rest.filter(Boolean), ...args],
      where,
      d,
      global,
      warn,
      startScript,
      include,
    );
  }
  if (args[0] === '=') args = args.slice(1);
  const num = (what: string): number | undefined => {
    const n = Number(args[0]);
    if (args[0] === undefined || !Number.isInteger(n)) {
      warn(where.line, `${what} needs a whole number — ignored`);
      return undefined;
    }
    return n;
  };
  const size = (what: string): number | undefined => {
    const n = args[0] === undefined ? undefined : parseLogrotateSize(args[0]);
    if (n === undefined) warn(where.line, `${what} needs a size such as 100k, 10M or 1G — ignored`);
    return n;
  };
  if (SCRIPT_KEYWORDS.has(name)) {
    if (global) warn(where.line, `${name} outside a stanza — ignored`);
    startScript(name);
    return;
  }
  if (FREQUENCIES.has(name)) {
    const weekday = Number(args[0]);
    d.criterion = { kind: 'frequency', value: name, ...(Number.isInteger(weekday) ? { weekday } : {}) };
    return;
  }
  const flag = (key: keyof Directives, value: boolean) => {
    (d as unknown as Record<string, unknown>)[key] = value;
  };
  switch (name) {
    case 'size': {
      const n = size('size');
      if (n !== undefined) d.criterion = { kind: 'size', bytes: n };
      return;
    }
    case 'minsize':
    case 'maxsize': {
      const n = size(name);
      if (n !== undefined) d[name] = n;
      return;
    }
    case 'rotate':
    case 'maxage': {
      const n = num(name);
      if (n !== undefined) d[name] = n;
      return;
    }
    case 'compress':
    case 'delaycompress':
    case 'copytruncate':
    case 'dateext':
    case 'dateyesterday':
    case 'missingok':
    case 'ifempty':
    case 'sharedscripts':
      return flag(name, true);
    case 'nocompress':
    case 'nodelaycompress':
    case 'nocopytruncate':
    case 'nodateext':
    case 'nomissingok':
    case 'nosharedscripts':
      return flag(name.slice(2) as keyof Directives, false);
    case 'notifempty':
      return flag('ifempty', false);
    case 'create':
      d.create = { mode: args[0], owner: args[1], group: args[2] };
      return;
    case 'nocreate':
      d.create = false;
      return;
    case 'dateformat':
      if (args.length === 0) warn(where.line, 'dateformat needs a format — ignored');
      else d.dateformat = args.join(' ');
      return;
    case 'extension':
      if (args[0] === undefined) warn(where.line, 'extension needs a value — ignored');
      else d.extension = args[0];
      return;
    case 'olddir':
      if (args[0] === undefined) warn(where.line, 'olddir needs a directory — ignored');
      else d.olddir = args[0];
      return;
    case 'noolddir':
      d.olddir = false;
      return;
    case 'compressoptions':
      d.compressOptions = args.join(' ');
      return;
    case 'include':
      if (args[0] === undefined) warn(where.line, 'include needs a file or directory — ignored');
      else include(args[0]);
      return;
  }
  if (name === 'compresscmd') d.compressCmd = args[0];
  if (name === 'compressext') d.compressExt = args[0];
  if (IGNORED.has(name)) return;
  if (UNSUPPORTED.has(name)) {
    d.unsupported[name] ??= { ...where, text: [name, ...args].join(' ') };
    return;
  }
  warn(where.line, `unknown directive "${name}" — ignored (logrotate ignores it too)`);
}
