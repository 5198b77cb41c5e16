/**
 * `caretaker import crontab`: reads a user crontab, the system crontab or an /etc/cron.d file and
 * produces equivalent `shell` tasks. Pure: text in, tasks and warnings out.
 *
 * Understood: five time fields or @nicknames; the user column of system crontabs; environment
 * lines (PATH and friends become `env:`, SHELL a shell other than /bin/sh, CRON_TZ the task's
 * timezone, RANDOM_DELAY its jitter, MAILTO a warning); `%` in commands (the rest is the
 * command's stdin, as cron feeds it); comments and blank lines.
 */
import { basename } from 'node:path';
import { Document, isMap, type YAMLMap } from 'yaml';
import { parseSchedule, ScheduleSyntaxError } from '../../core/schedule.js';
import { ConfigError } from '../../errors/config-error.js';
import { cronTaskName } from './crontab-names.js';
import { IdAllocator, slug } from './task-ids.js';

export type CrontabFormat = 'user' | 'system';

export interface ImportedTask {
  readonly id: string;
  /** The file it came from (or `stdin`). */
  readonly source: string;
  readonly line: number;
  readonly user: string | undefined;
  readonly schedule: string;
  readonly timezone: string | undefined;
  readonly jitter: string | undefined;
  readonly command: string | string[];
  readonly stdin: string | undefined;
  readonly env: Record<string, string>;
}

export interface CrontabImport {
  readonly tasks: ImportedTask[];
  readonly warnings: string[];
}

const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const ENV_LINE = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** System format when the file is /etc/crontab or lives in a cron.d directory. */
export function guessFormat(file: string): CrontabFormat {
  return /(^|\/)etc\/crontab$/.test(file) || /(^|\/)cron\.d\//.test(file) ? 'system' : 'user';
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) return v.slice(1, -1);
  return v;
}

/** cron's `%`: the first unescaped one ends the command; later ones are newlines of its stdin. */
export function splitPercent(command: string): { command: string; stdin: string | undefined } {
  let out = '';
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === '\\' && command[i + 1] === '%') {
      out += '%';
      i++;
    } else if (c === '%') {
      const rest = command
        .slice(i + 1)
        .split('\\%')
        .map((part) => part.replace(/%/g, '\n'))
        .join('%');
      return { command: out, stdin: `${rest}\n` };
    } else out += c;
  }
  return { command: out, stdin: undefined };
}

export interface CrontabOptions {
  /** The file name warnings and descriptions give. */
  readonly source: string;
  /** `auto`: system when a user column is there (a known user name in field 6, then a command). */
  readonly format: CrontabFormat | 'auto';
  /** The user names of this host (/etc/passwd), for telling a user column from a command. */
  readonly users?: ReadonlySet<string>;
  /** Is this name a command too (on PATH)? Such a user name does not prove a user column. */
  readonly isCommand?: (name: string) => boolean;
  /** Shared by the files of one import, so that ids stay unique across them. */
  readonly ids?: IdAllocator;
}

interface JobLine {
  readonly lineNo: number;
  readonly raw: string;
  readonly fields: string[];
  /** Index of the first field after the schedule. */
  readonly after: number;
}

/** The lines that are jobs (not comments, blank or environment lines), with their fields. */
function jobLines(text: string): JobLine[] {
  const out: JobLine[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    if (ENV_LINE.test(line) && !/^[\d*@]/.test(line)) return;
    const fields = line.split(/\s+/);
    out.push({ lineNo: index + 1, raw: rawLine, fields, after: fields[0]!.startsWith('@') ? 1 : 5 });
  });
  return out;
}

/** System users named after a program, which a user crontab may well run. */
const COMMAND_USERS = new Set([
  'mail',
  'sync',
  'backup',
  'man',
  'news',
  'list',
  'games',
  'proxy',
  'lp',
  'uucp',
]);

/**
 * Tells a system crontab (with a user column) from a user crontab by its lines. A job whose field
 * after the schedule is a user name of this host, followed by more, has a user column — certainly
 * when that name is no command too (`root`, `www-data`); `mail` or `backup` may be either. No
 * certain one: a user crontab. Every job with one: a system crontab. Some but not all cannot be
 * told apart, and guessing would run `root …` as a command or lose a command's first word: a
 * ConfigError names the line and the flag to pass.
 */
export function detectFormat(
  text: string,
  source: string,
  users: ReadonlySet<string>,
  isCommand: (name: string) => boolean = () => false,
): CrontabFormat {
  const jobs = jobLines(text);
  const userAt = (j: JobLine) => j.fields[j.after] ?? '';
  // A command's first word does not start with "-": in `mail -s x`, mail is the command.
  const withUser = jobs.filter(
    (j) => users.has(userAt(j)) && j.fields.length > j.after + 1 && !j.fields[j.after + 1]!.startsWith('-'),
  );
  const certain = withUser.filter((j) => !isCommand(userAt(j)) && !COMMAND_USERS.has(userAt(j)));
  if (certain.length === 0) return 'user';
  if (withUser.length === jobs.length) return 'system';
  const j = certain[0]!;
  const other = jobs.find((x) => !withUser.includes(x))!;
  const name = cut(userAt(j));
  throw new ConfigError([
    {
      file: source,
      line: j.lineNo,
      column: columnOf(j.raw, j.after),
      path: '',
      message: `"${name}" after the schedule is a user name, as in a system crontab (/etc/crontab, /etc/cron.d), but line ${other.lineNo} has no user column; pass --system if the user column is meant, or --user if "${name}" is the command`,
    },
  ]);
}

/** 1-based column of field `n` (0-based) of a line. */
function columnOf(raw: string, n: number): number {
  const m = new RegExp(`^\\s*(?:\\S+\\s+){${n}}`).exec(raw);
  return (m?.[0].length ?? 0) + 1;
}

const cut = (s: string, max = 40) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export function importCrontab(text: string, opts: CrontabOptions): CrontabImport {
  const format =
    opts.format === 'auto'
      ? detectFormat(text, opts.source, opts.users ?? new Set(['root']), opts.isCommand)
      : opts.format;
  const ids = opts.ids ?? new IdAllocator();
  const tasks: ImportedTask[] = [];
  const warnings: string[] = [];
  const env: Record<string, string> = {};
  let shell = '/bin/sh';
  let shellLine = 0;
  let timezone: string | undefined;
  let jitter: string | undefined;
  const sourceName = slug(basename(opts.source)) || 'crontab';

  text.split(/\r?\n/).forEach((rawLine, index) => {
    const lineNo = index + 1;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${opts.source}:${lineNo}`;

    const envMatch = ENV_LINE.exec(line);
    if (envMatch && !/^[\d*@]/.test(line)) {
      const [, name, value] = envMatch as unknown as [string, string, string];
      const v = unquote(value);
      if (name === 'SHELL') {
        shell = v;
        shellLine = lineNo;
      } else if (name === 'MAILTO' || name === 'MAILFROM') {
        warnings.push(
          `${where}: ${name}=${v} has no equivalent; use caretaker's notify: (email) for failure mail`,
        );
      } else if (name === 'CRON_TZ' || name === 'TZ') {
        if (name === 'CRON_TZ') timezone = v;
        else env[name] = v;
      } else if (name === 'RANDOM_DELAY') {
        jitter = /^\d+$/.test(v) ? `${v}m` : undefined;
      } else env[name] = v;
      return;
    }

    const fields = line.split(/\s+/);
    let schedule: string;
    let rest: string[];
    if (fields[0]!.startsWith('@')) {
      const nick = fields[0]!.toLowerCase();
      if (nick === '@reboot') {
        warnings.push(
          `${where}: @reboot has no equivalent (caretaker schedules by time); run it from the service's start-up instead — skipped`,
        );
        return;
      }
      if (!NICKNAMES.has(nick)) {
        warnings.push(`${where}: unknown schedule ${cut(fields[0]!)} — skipped`);
        return;
      }
      schedule = nick;
      rest = fields.slice(1);
    } else {
      schedule = fields.slice(0, 5).join(' ');
      rest = fields.slice(5);
    }
    let user: string | undefined;
    if (format === 'system') {
      user = rest[0];
      rest = rest.slice(1);
    }
    // Keep the command's own spacing: cut the fields off the original line instead of re-joining.
    const consumed = fields.length - rest.length;
    let left = rawLine.trimStart();
    for (let i = 0; i < consumed; i++) left = left.replace(/^\S+\s*/, '');
    const commandText = left.trimEnd();
    if (!commandText) {
      warnings.push(`${where}: no command after the schedule${user ? ' and user' : ''} — skipped`);
      return;
    }
    try {
      parseSchedule(schedule, timezone ?? 'UTC');
    } catch (err) {
      if (!(err instanceof ScheduleSyntaxError)) throw err;
      warnings.push(`${where}: ${cut(err.message, 160)} — skipped`);
      return;
    }
    const { command, stdin } = splitPercent(commandText);
    if (command.trim() === '') {
      warnings.push(`${where}: the command before the first % (its stdin) is empty — skipped`);
      return;
    }
    if (shell.trim() === '') {
      warnings.push(
        `${where}: SHELL is empty (line ${shellLine}), so cron could not run it either — skipped`,
      );
      return;
    }
    if (user && user !== 'root') {
      warnings.push(
        `${where}: runs as user "${cut(user)}" under cron; caretaker runs it as its own user (add sudo -u ${cut(user)}, or run caretaker as that user)`,
      );
    }
    tasks.push({
      id: ids.next(cronTaskName(command) || `${sourceName}-line-${lineNo}`),
      source: opts.source,
      line: lineNo,
      user,
      schedule,
      timezone,
      jitter,
      command: shell === '/bin/sh' || shell === 'sh' ? command : [shell, '-c', command],
      stdin,
      env: { ...env },
    });
  });
  return { tasks, warnings };
}

/** The `tasks:` YAML for the imported tasks, with where each came from as a comment. */
export function renderImportedTasks(result: CrontabImport, source: string): string {
  // One file's tasks, or a directory's (each task names its own file).
  const doc = new Document({ tasks: {} });
  const tasksNode = doc.get('tasks') as YAMLMap;
  for (const t of result.tasks) {
    const task: Record<string, unknown> = {
      description: `imported from ${t.source} line ${t.line}${t.user ? ` (ran as ${t.user})` : ''}`,
      action: 'shell',
      schedule: t.schedule,
    };
    if (t.timezone) task.timezone = t.timezone;
    if (t.jitter) task.jitter = t.jitter;
    const withOpts: Record<string, unknown> = { command: t.command };
    if (t.stdin !== undefined) withOpts.stdin = t.stdin;
    if (Object.keys(t.env).length > 0) withOpts.env = t.env;
    task.with = withOpts;
    tasksNode.set(t.id, doc.createNode(task));
  }
  if (isMap(tasksNode) && result.tasks.length === 0) tasksNode.flow = true;
  const header = [
    `imported from ${source} by caretaker import crontab`,
    ...result.warnings.map((w) => `warning: ${w}`),
  ];
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}
