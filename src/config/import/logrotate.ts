/**
 * `caretaker import logrotate FILE...`: logrotate stanzas to `rotate-logs` tasks. Each directive
 * keeps its meaning (logrotate's own defaults included: `size 1M` when no frequency is given,
 * `rotate 0`); what has no equivalent is named in a warning, never dropped silently.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Document, isMap, type YAMLMap } from 'yaml';
import { rotateLogsSchema } from '../../actions/rotate-logs/schema.js';
import { notRegularKind } from './file-kind.js';
import { keepValid } from './keep-valid.js';
import { IdAllocator } from './task-ids.js';
import { parseLogrotate, type ConfigReader, type Directives, type Stanza } from './logrotate-parse.js';

export interface ImportedRotateTask {
  readonly id: string;
  /** file:line of the stanza. */
  readonly source: string;
  readonly schedule: string;
  /** The task's `with:` options, as a user writes them (validated by the action's schema). */
  readonly with: Record<string, unknown>;
}

export interface LogrotateImport {
  readonly tasks: ImportedRotateTask[];
  readonly warnings: string[];
}

export const nodeReader: ConfigReader = {
  readText: (p) => readFileSync(p, 'utf8'),
  isDirectory: (p) => statSync(p).isDirectory(),
  list: (d) => readdirSync(d),
  notRegular: (p) => {
    try {
      return notRegularKind(statSync(p));
    } catch {
      return undefined; // reading it says what is wrong
    }
  },
};

const WHY_UNSUPPORTED: Record<string, string> = {
  su: 'caretaker rotates as the user it runs as',
  mail: 'rotated logs are not mailed; use notify: for alerts',
  mailfirst: 'rotated logs are not mailed',
  maillast: 'rotated logs are not mailed',
  copy: 'copy without truncate is not supported; use copytruncate',
  renamecopy: 'not supported; olddir must be on the same filesystem',
  shred: 'old logs are deleted, not shredded',
  shredcycles: 'old logs are deleted, not shredded',
  start: 'generations always start at 1',
  minage: 'not supported',
  tabooext: 'caretaker never rotates generations of a matched log; other taboo rules do not apply',
  taboopat: 'caretaker never rotates generations of a matched log; other taboo rules do not apply',
  addextension: 'not supported; see extension',
  datehourago: 'not supported; use dateformat with %H',
  createolddir: 'olddir is always created as needed (with the mode of the log directory)',
  nocreateolddir: 'olddir is always created as needed',
  compresscmd: 'caretaker compresses with gzip (in parallel) only',
  uncompresscmd: 'caretaker compresses with gzip only',
  compressext: 'compressed logs end in .gz',
  allowhardlink: 'not needed: logs with several links are rotated by name',
};

const GENERIC_DIRS = new Set(['log', 'logs', 'var', '']);

/** rotate-nginx for /var/log/nginx/*.log, rotate-apt-term for /var/log/apt/term.log. */
function taskName(paths: readonly string[]): string {
  const first = paths[0] ?? 'logs';
  const dir = basename(dirname(first));
  let name = basename(first).replace(/\.(log|txt)$/, '');
  if (/[*?[\]{}]/.test(name) || name === '') name = dir;
  else if (!GENERIC_DIRS.has(dir) && !name.startsWith(dir)) name = `${dir}-${name}`;
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `rotate-${id || 'logs'}`;
}

/** A size exactly as logrotate meant it: the largest unit that divides it, else bytes. */
function exactSize(bytes: number): string | number {
  for (const [unit, n] of [
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ] as const)
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${unit}`;
  return bytes;
}

function levelFrom(options: string | undefined): number | undefined {
  const m = /(?:^|\s)-(\d)(?:\s|$)/.exec(options ?? '');
  return m ? Number(m[1]) : undefined;
}

function modeText(mode: string | undefined): string | undefined {
  if (mode === undefined || !/^0?[0-7]{3}$/.test(mode)) return undefined;
  return mode.length === 3 ? `0${mode}` : mode;
}

/** The `with:` options equivalent to one stanza, plus what could not be carried over. */
function mapStanza(s: Stanza, warn: (text: string) => void): Record<string, unknown> {
  const d: Directives = s.directives;
  const w: Record<string, unknown> = { paths: s.paths.length === 1 ? s.paths[0] : s.paths };
  const crit = d.criterion ?? { kind: 'size', bytes: 1024 * 1024 }; // logrotate's default: size 1M
  if (crit.kind === 'size') {
    w.size = exactSize(crit.bytes);
    if (!d.criterion) warn('no frequency or size: logrotate’s default size 1M carried over');
    if (d.maxsize !== undefined) warn('maxsize has no effect with size (as in logrotate) — dropped');
  } else {
    w.frequency = crit.value;
    if (crit.weekday !== undefined && crit.weekday !== 0 && crit.weekday !== 7)
      warn(`weekly ${crit.weekday}: caretaker's weekly rotation is on Sundays (logrotate's default)`);
    if (d.minsize !== undefined) w.minsize = exactSize(d.minsize);
    if (d.maxsize !== undefined) w.maxsize = exactSize(d.maxsize);
  }
  w.rotate = d.rotate ?? 0;
  if (d.rotate === undefined)
    warn('no rotate: logrotate’s default 0 carried over (rotated logs are deleted at once)');
  if (d.rotate !== undefined && d.rotate < 0) {
    warn(`rotate ${d.rotate} (keep all) is not supported — rotate: 100000 instead`);
    w.rotate = 100_000;
  }
  if (d.maxage !== undefined && d.maxage > 0) w.maxage = d.maxage;
  if (d.compress) {
    w.compress = true;
    const level = levelFrom(d.compressOptions);
    if (level !== undefined && level !== 6) w.compress_level = level;
    if (d.delaycompress) w.delaycompress = true;
  }
  if (d.copytruncate) w.copytruncate = true;
  else if (d.create) {
    const mode = modeText(d.create.mode);
    if (d.create.mode !== undefined && mode === undefined)
      warn(`create ${d.create.mode}: not an octal mode — ignored`);
    const c: Record<string, string> = {};
    if (mode) c.mode = mode;
    if (d.create.owner) c.owner = d.create.owner;
    if (d.create.group) c.group = d.create.group;
    w.create = Object.keys(c).length > 0 ? c : true;
  }
  if (d.dateext) {
    w.dateext = true;
    if (d.dateformat !== undefined) w.dateformat = d.dateformat;
    if (d.dateyesterday) w.dateyesterday = true;
  }
  if (d.extension) w.extension = d.extension;
  if (d.olddir) w.olddir = d.olddir;
  if (d.missingok) w.missingok = true;
  if (d.ifempty === false) w.notifempty = true;
  for (const phase of ['prerotate', 'postrotate'] as const) if (d.scripts[phase]) w[phase] = d.scripts[phase];
  if (d.sharedscripts && (d.scripts.prerotate || d.scripts.postrotate)) w.sharedscripts = true;
  for (const phase of ['firstaction', 'lastaction', 'preremove'])
    if (d.scripts[phase])
      warn(`${phase} script is not carried over (run it from a shell task that depends on this one)`);
  for (const [name, u] of Object.entries(d.unsupported))
    warn(`${u.file}:${u.line}: "${u.text}" not carried over: ${WHY_UNSUPPORTED[name] ?? 'not supported'}`);
  return w;
}

export function importLogrotate(
  files: readonly string[],
  reader: ConfigReader = nodeReader,
): LogrotateImport {
  const parsed = parseLogrotate(files, reader);
  const warnings = [...parsed.warnings];
  const tasks: ImportedRotateTask[] = [];
  const ids = new IdAllocator();
  for (const s of parsed.stanzas) {
    const source = `${s.where.file}:${s.where.line}`;
    const local: string[] = [];
    const w = mapStanza(s, (t) => local.push(t));
    for (const t of local) warnings.push(t.startsWith('/') && /:\d+: /.test(t) ? t : `${source}: ${t}`);
    const check = rotateLogsSchema.safeParse(w);
    if (!check.success) {
      warnings.push(
        `${source}: cannot be expressed as rotate-logs (${check.error.issues.map((i) => i.message).join('; ')}) — skipped`,
      );
      continue;
    }
    const frequency = s.directives.criterion?.kind === 'frequency' ? s.directives.criterion.value : undefined;
    tasks.push({
      id: ids.next(taskName(s.paths)),
      source,
      // logrotate runs from a daily timer (hourly for hourly logs); the frequency gates the rest.
      schedule: frequency === 'hourly' ? '@hourly' : '@daily',
      with: w,
    });
  }
  const kept = keepValid(
    tasks,
    (ts) => renderLogrotateTasks({ tasks: [...ts], warnings: [] }, files),
    (t) => t.source,
    warnings,
  );
  return { tasks: kept, warnings };
}

/** The `tasks:` YAML, each task saying where it came from, warnings as header comments. */
export function renderLogrotateTasks(result: LogrotateImport, sources: readonly string[]): string {
  const doc = new Document({ tasks: {} });
  const tasksNode = doc.get('tasks') as YAMLMap;
  for (const t of result.tasks) {
    tasksNode.set(
      t.id,
      doc.createNode({
        description: `imported from ${t.source}`,
        action: 'rotate-logs',
        schedule: t.schedule,
        with: t.with,
      }),
    );
  }
  if (isMap(tasksNode) && result.tasks.length === 0) tasksNode.flow = true;
  const header = [
    `imported from ${sources.join(', ')} by caretaker import logrotate`,
    ...result.warnings.map((w) => `warning: ${w}`),
  ];
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}
