/**
 * Load-time checks that need more than one key: unknown actions, action options, schedules,
 * windows, time zones, depends_on targets and cycles, groups. They read the raw parsed YAML so
 * that every problem in the file is reported in one go, even when the shape is wrong elsewhere.
 */
import { closest } from '../core/did-you-mean.js';
import { findCycle } from '../core/dependency-graph.js';
import { isValidTimezone, parseSchedule, ScheduleSyntaxError } from '../core/schedule.js';
import { parseDays, parseHours, WindowSyntaxError } from '../core/window.js';
import type { ActionRegistry } from '../actions/registry.js';
import type { AnyAction } from '../actions/types.js';
import { describeIssues, errorMap, type PathMessage } from '../schema/zod-issues.js';

type Raw = Record<string, unknown>;

const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface CheckedOptions {
  /** Task id → the action's parsed options, for tasks whose options are valid. */
  readonly options: Map<string, unknown>;
  readonly problems: PathMessage[];
}

export function checkTasks(raw: Raw, registry: ActionRegistry): CheckedOptions {
  const problems: PathMessage[] = [];
  const options = new Map<string, unknown>();
  const tasks = isMap(raw.tasks) ? raw.tasks : {};
  const ids = Object.keys(tasks);
  const idSet = new Set(ids);
  let hintsLeft = 100;
  const defaultZone = typeof raw.timezone === 'string' ? raw.timezone : 'UTC';
  const groups = isMap(raw.groups) ? Object.keys(raw.groups) : [];

  if (typeof raw.timezone === 'string' && !isValidTimezone(raw.timezone)) {
    problems.push({
      path: ['timezone'],
      message: `unknown time zone "${raw.timezone}"; expected an IANA name such as UTC or Europe/Berlin`,
    });
  }
  const defaults = isMap(raw.defaults) ? raw.defaults : {};
  checkWindow(defaults.window, ['defaults', 'window'], problems);

  const graph = new Map<string, string[]>();
  for (const id of ids) {
    const task = tasks[id];
    if (!isMap(task)) continue;
    const at = (...rest: string[]) => ['tasks', id, ...rest];

    if (typeof task.action === 'string') {
      const action = registry.get(task.action);
      if (!action) {
        const hint = closest(task.action, registry.names());
        problems.push({
          path: at('action'),
          message: `unknown action "${task.action}"${hint ? ` (did you mean "${hint}"?)` : ''}; available: ${registry.names().join(', ')}`,
        });
      } else {
        // jitless: parsed once per load (see load.ts).
        const parsed = action.schema.safeParse(task.with ?? {}, {
          error: errorMap,
          reportInput: true,
          jitless: true,
        });
        if (parsed.success) {
          options.set(id, parsed.data);
          checkRollbackPaths(task.rollback, action, parsed.data, at('rollback'), problems);
        } else problems.push(...describeIssues(parsed.error.issues, action.schema, at('with')));
      }
    }

    let zone = defaultZone;
    if (typeof task.timezone === 'string') {
      if (isValidTimezone(task.timezone)) zone = task.timezone;
      else
        problems.push({
          path: at('timezone'),
          message: `unknown time zone "${task.timezone}"; expected an IANA name such as UTC or Europe/Berlin`,
        });
    }
    if (typeof task.schedule === 'string' && isValidTimezone(zone)) {
      try {
        parseSchedule(task.schedule, zone);
      } catch (err) {
        if (!(err instanceof ScheduleSyntaxError)) throw err;
        problems.push({ path: at('schedule'), message: err.message });
      }
    }
    checkWindow(task.window, at('window'), problems);

    if (typeof task.group === 'string' && !groups.includes(task.group)) {
      const hint = closest(task.group, groups);
      problems.push({
        path: at('group'),
        message: `group "${task.group}" is not defined${hint ? ` (did you mean "${hint}"?)` : ''}; declare it under groups:, e.g. groups: { ${task.group}: 1 }`,
      });
    }

    const deps = Array.isArray(task.depends_on)
      ? task.depends_on.filter((d): d is string => typeof d === 'string')
      : [];
    graph.set(id, deps);
    deps.forEach((dep, i) => {
      if (dep === id)
        problems.push({ path: at('depends_on', String(i)), message: `a task cannot depend on itself` });
      else if (!idSet.has(dep)) {
        // A hint compares with every id: for the first few unknown ids only, so that a file of
        // 50,000 tasks with as many bad references is not checked in quadratic time.
        const hint = hintsLeft-- > 0 ? closest(dep, ids) : undefined;
        problems.push({
          path: at('depends_on', String(i)),
          message: `unknown task "${dep}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
      }
    });
  }

  const selfless = new Map([...graph].map(([k, v]) => [k, v.filter((d) => d !== k)]));
  const cycle = findCycle(selfless);
  if (cycle) {
    problems.push({
      path: ['tasks', cycle[0]!, 'depends_on'],
      message: `dependency cycle: ${cycle.join(' → ')}`,
    });
  }
  return { options, problems };
}

/** `rollback: true` needs paths: the action's own, or `rollback: { paths }`. */
function checkRollbackPaths(
  rollback: unknown,
  action: AnyAction,
  options: unknown,
  path: string[],
  problems: PathMessage[],
): void {
  if (rollback !== true && rollback !== 'on_failure' && !isMap(rollback)) return;
  const explicit = isMap(rollback) && rollback.paths !== undefined;
  if (explicit) return;
  // Only the count matters here; the paths are resolved again, against the config's dir, at run time.
  const declared = action.modifies?.(options, (p) => p);
  if (declared && declared.length > 0) return;
  problems.push({
    path,
    message: declared
      ? `action "${action.name}" changes no files with these options, so a rollback point would hold nothing; remove rollback:, or name the files: rollback: { paths: ["data/**"] }`
      : `action "${action.name}" does not say which files this task modifies; write rollback: { paths: ["config/**"] }${action.name === 'shell' ? ' or list them in with.paths' : ''}`,
  });
}

function checkWindow(win: unknown, path: string[], problems: PathMessage[]): void {
  if (!isMap(win)) return;
  for (const [key, parse] of [
    ['hours', parseHours],
    ['days', parseDays],
  ] as const) {
    const value = win[key];
    if (value === undefined || (typeof value !== 'string' && typeof value !== 'number')) continue;
    try {
      parse(String(value));
    } catch (err) {
      if (!(err instanceof WindowSyntaxError)) throw err;
      problems.push({ path: [...path, key], message: err.message });
    }
  }
}
