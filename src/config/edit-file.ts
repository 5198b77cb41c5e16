/**
 * `create-task` and `schedule-task` on the file itself: the edit (config-edit.ts) is checked by
 * the real loader — every rule `caretaker validate` applies — before anything is written, then
 * written atomically (temp file, fsync, rename) with the file's mode and owner. Refused: one
 * line, exit 2, and the file byte for byte as it was.
 */
import { chown, readFile, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { builtinRegistry } from '../actions/builtin.js';
import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import { UsageError } from '../errors/usage-error.js';
import { writeFileAtomic } from '../os/atomic-write.js';
import { addTask, parseWith, setSchedule, type NewTaskSpec } from './config-edit.js';
import { parseConfigTextAsync } from './load.js';
import type { TaskConfig } from './types.js';

export interface CreateTaskInput extends Omit<NewTaskSpec, 'with'> {
  /** `key=value` pairs (see parseWith). */
  readonly with?: readonly string[];
}

export interface EditOutcome {
  readonly file: string;
  readonly task: string;
  /** The schedule as written. */
  readonly schedule: string;
  /** The schedule before (schedule-task), null when it had none or the task is new. */
  readonly previous: string | null;
}

/** As the configuration's schema has it (config/schema.ts). */
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Where a loader issue points, in the words of the command's flags. */
function flagOf(path: string, id: string, scheduleFlag: string): string | null {
  const prefix = `tasks.${id}`;
  if (path === prefix) return null;
  if (!path.startsWith(`${prefix}.`)) return null;
  const key = path.slice(prefix.length + 1).split('.')[0]!;
  if (key === 'with') return '--with';
  if (key === 'schedule') return scheduleFlag;
  return ['action', 'description', 'category', 'priority', 'timeout'].includes(key) ? `--${key}` : null;
}

function issueLine(issue: ConfigIssue, id: string, scheduleFlag: string): string {
  const flag = flagOf(issue.path, id, scheduleFlag);
  return `${flag ? `${flag} (${issue.path})` : issue.path || 'the file'}: ${issue.message}`;
}

async function load(text: string, file: string) {
  return parseConfigTextAsync(text, file, { registry: builtinRegistry() });
}

/** Reads the file, applies `edit`, checks the result with the loader, writes it atomically. */
async function editFile(
  file: string,
  id: string,
  scheduleFlag: string,
  edit: (text: string) => string,
  hint: (issues: readonly ConfigIssue[]) => string = () => '',
): Promise<{ file: string; task: TaskConfig }> {
  let target: string;
  try {
    // A symlinked caretaker.yaml stays a link: the file it points to is the one replaced.
    target = await realpath(file);
  } catch {
    throw new UsageError(`${file}: no such file; create one with \`caretaker init\` or pass -c PATH`);
  }
  const original = await readFile(target, 'utf8');
  try {
    await load(original, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const n = err.issues.length;
    throw new UsageError(
      `${basename(file)} has ${n === 1 ? 'an error' : `${n} errors`} already (${err.message.split('\n')[0]}); fix ${n === 1 ? 'it' : 'them'} first (caretaker validate): nothing was changed`,
    );
  }
  const next = edit(original);
  let task: TaskConfig | undefined;
  try {
    task = (await load(next, file)).tasks.find((t) => t.id === id);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The file on disk has none of these lines: each problem is told by its flag and key.
    const shown = err.issues.slice(0, 3).map((i) => issueLine(i, id, scheduleFlag));
    const more = err.issues.length - shown.length;
    throw new UsageError(
      `${shown.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}${hint(err.issues)}; ${basename(file)} was not changed`,
    );
  }
  if (!task) throw new Error(`the edited file has no task "${id}"`);
  const before = await stat(target);
  // Someone else's edit between our read and our write is not overwritten.
  if ((await readFile(target, 'utf8')) !== original)
    throw new UsageError(`${file} changed while it was being edited; nothing was written, try again`);
  await writeFileAtomic(target, next, { mode: before.mode & 0o7777 });
  if (process.getuid?.() === 0 && (before.uid !== 0 || before.gid !== 0))
    await chown(target, before.uid, before.gid).catch(() => {});
  return { file, task };
}

/** Dotted keys of a nested map of options, to their values. */
function flatten(map: Readonly<Record<string, unknown>>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

/** `caretaker create-task`: adds a task to the file. */
export async function createTaskInFile(file: string, input: CreateTaskInput): Promise<EditOutcome> {
  if (!TASK_ID.test(input.id))
    throw new UsageError(
      `task id "${input.id}": expected letters, digits, ".", "_" and "-", starting with a letter or digit`,
    );
  const withOptions = parseWith(input.with ?? []);
  const spec: NewTaskSpec = { ...input, with: withOptions };
  // `--with command=true` is the boolean true: say how to keep a value text when it was refused.
  const typed = Object.entries(flatten(withOptions)).filter(([, v]) => typeof v !== 'string');
  const hint = (issues: readonly ConfigIssue[]) => {
    const hit = typed.find(([k]) => issues.some((i) => i.path.startsWith(`tasks.${input.id}.with.${k}`)));
    return hit
      ? ` (--with values are read as YAML: ${hit[0]}=${String(hit[1])} is a ${typeof hit[1]}; for text, quote it: --with '${hit[0]}="${String(hit[1])}"')`
      : '';
  };
  const { task } = await editFile(file, input.id, '--schedule', (text) => addTask(text, spec), hint);
  return { file, task: task.id, schedule: task.schedule?.text ?? input.schedule, previous: null };
}

/** `caretaker schedule-task`: sets one task's schedule. */
export async function scheduleTaskInFile(file: string, id: string, expr: string): Promise<EditOutcome> {
  let previous: string | null = null;
  const { task } = await editFile(file, id, '--cron', (text) => {
    const out = setSchedule(text, id, expr);
    previous = out.previous;
    return out.text;
  });
  return { file, task: task.id, schedule: task.schedule?.text ?? expr, previous };
}
