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

export type CrontabFormat = 'user' | 'system';

export interface ImportedTask {
  readonly id: string;
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

function idFor(command: string, source: string): string {
  // The program's name reads best (`debian-sa1`), skipping shell guards such as `[ -x ... ] &&`.
  const words = command.split(/\s+|&&|\|\||;/).filter(Boolean);
  const program = words.find(
    (w) =>
      /^[/.A-Za-z0-9_-]+$/.test(w) &&
      !['[', 'test', 'if', 'then', 'cd', 'command', 'nice', 'ionice', '-x', '-v', '-d', '-f'].includes(w) &&
      !w.startsWith('-'),
  );
  const raw = program ? basename(program) : source;
  const id = raw
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[-.]+$/g, '');
  return id || 'cron-job';
}

export function importCrontab(text: string, opts: { source: string; format: CrontabFormat }): CrontabImport {
  const tasks: ImportedTask[] = [];
  const warnings: string[] = [];
  const env: Record<string, string> = {};
  let shell = '/bin/sh';
  let timezone: string | undefined;
  let jitter: string | undefined;
  const used = new Map<string, number>();
  const sourceName = basename(opts.source);

  text.split(/\r?\n/).forEach((rawLine, index) => {
    const lineNo = index + 1;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${opts.source}:${lineNo}`;

    const envMatch = ENV_LINE.exec(line);
    if (envMatch && !/^[\d*@]/.test(line)) {
      const [, name, value] = envMatch as unknown as [string, string, string];
      const v = unquote(value);
      if (name === 'SHELL') shell = v;
      else if (name === 'MAILTO' || name === 'MAILFROM') {
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
        warnings.push(`${where}: unknown schedule ${fields[0]} — skipped`);
        return;
      }
      schedule = nick;
      rest = fields.slice(1);
    } else {
      schedule = fields.slice(0, 5).join(' ');
      rest = fields.slice(5);
    }
    let user: string | undefined;
    if (opts.format === 'system') {
      user = rest[0];
      rest = rest.slice(1);
    }
    // Keep the command's own spacing: cut the fields off the original line instead of re-joining.
    const consumed = fields.length - rest.length;
    let cut = rawLine.trimStart();
    for (let i = 0; i < consumed; i++) cut = cut.replace(/^\S+\s*/, '');
    const commandText = cut.trimEnd();
    if (!commandText) {
      warnings.push(`${where}: no command after the schedule — skipped`);
      return;
    }
    try {
      parseSchedule(schedule, timezone ?? 'UTC');
    } catch (err) {
      if (!(err instanceof ScheduleSyntaxError)) throw err;
      warnings.push(`${where}: ${err.message} — skipped`);
      return;
    }
    const { command, stdin } = splitPercent(commandText);
    if (user && user !== 'root') {
      warnings.push(
        `${where}: runs as user "${user}" under cron; caretaker runs it as its own user (add sudo -u ${user}, or run caretaker as that user)`,
      );
    }
    const base = idFor(command, sourceName);
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    tasks.push({
      id: n === 1 ? base : `${base}-${n}`,
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
  const doc = new Document({ tasks: {} });
  const tasksNode = doc.get('tasks') as YAMLMap;
  for (const t of result.tasks) {
    const task: Record<string, unknown> = {
      description: `imported from ${source} line ${t.line}${t.user ? ` (ran as ${t.user})` : ''}`,
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
