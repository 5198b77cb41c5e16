/**
 * Load-time checks of the alerting sections that need more than one key: a channel has exactly
 * one address, channel names are unique, `tasks:` filters name real tasks or watches, quiet
 * hours parse and leave some hours free, watch expectations are valid schedules.
 */
import { closest } from '../core/did-you-mean.js';
import { isValidTimezone, parseSchedule, ScheduleSyntaxError } from '../core/schedule.js';
import { parseDays, parseHours, WindowSyntaxError, type Window } from '../core/window.js';
import { coversEverything } from '../notify/quiet-hours.js';
import type { PathMessage } from '../schema/zod-issues.js';

type Raw = Record<string, unknown>;
const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

export function checkAlerting(raw: Raw): PathMessage[] {
  const problems: PathMessage[] = [];
  const tasks = isMap(raw.tasks) ? Object.keys(raw.tasks) : [];
  const watches = isMap(raw.watch) ? Object.keys(raw.watch) : [];
  const subjects = [...tasks, ...watches];
  const zone = typeof raw.timezone === 'string' && isValidTimezone(raw.timezone) ? raw.timezone : 'UTC';

  const names = new Map<string, number>();
  (Array.isArray(raw.notify) ? raw.notify : []).forEach((c: unknown, i) => {
    if (!isMap(c)) return;
    const at = (...rest: (string | number)[]) => ['notify', i, ...rest];
    const oneOf = (a: string, b: string) => {
      if (c[a] === undefined && c[b] === undefined)
        problems.push({ path: at(), message: `a ${String(c.type)} channel needs ${a} or ${b}` });
      if (c[a] !== undefined && c[b] !== undefined)
        problems.push({ path: at(b), message: `set ${a} or ${b}, not both` });
    };
    if (c.type === 'webhook' || c.type === 'slack') oneOf('url', 'url_env');
    if (c.type === 'email') oneOf('smtp', 'smtp_env');
    if (typeof c.name === 'string') {
      if (names.has(c.name))
        problems.push({
          path: at('name'),
          message: `channel name "${c.name}" is already used by notify.${names.get(c.name)}`,
        });
      names.set(c.name, i);
    }
    if (Array.isArray(c.tasks)) {
      c.tasks.forEach((t: unknown, j) => {
        if (typeof t !== 'string' || subjects.includes(t)) return;
        const hint = closest(t, subjects);
        problems.push({
          path: at('tasks', j),
          message: `unknown task or watch "${t}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
      });
    }
  });

  const quiet = isMap(raw.alerts) && isMap(raw.alerts.quiet_hours) ? raw.alerts.quiet_hours : undefined;
  if (quiet) {
    const at = (k: string) => ['alerts', 'quiet_hours', k];
    const w: { hours: boolean[] | null; days: boolean[] | null } = { hours: null, days: null };
    try {
      if (typeof quiet.hours === 'string' || typeof quiet.hours === 'number')
        w.hours = parseHours(String(quiet.hours));
    } catch (err) {
      if (!(err instanceof WindowSyntaxError)) throw err;
      problems.push({ path: at('hours'), message: err.message });
    }
    try {
      if (typeof quiet.days === 'string') w.days = parseDays(quiet.days);
    } catch (err) {
      if (!(err instanceof WindowSyntaxError)) throw err;
      problems.push({ path: at('days'), message: err.message });
    }
    if (typeof quiet.timezone === 'string' && !isValidTimezone(quiet.timezone))
      problems.push({
        path: at('timezone'),
        message: `unknown time zone "${quiet.timezone}"; expected an IANA name`,
      });
    if (w.hours && coversEverything({ ...w, timezone: zone } as Window))
      problems.push({
        path: at('hours'),
        message: 'quiet hours cover every hour of the week: alerts would never be sent',
      });
  }

  for (const name of watches) {
    const w = (raw.watch as Raw)[name];
    if (!isMap(w) || typeof w.expect !== 'string') continue;
    try {
      parseSchedule(w.expect, zone);
    } catch (err) {
      if (!(err instanceof ScheduleSyntaxError)) throw err;
      problems.push({ path: ['watch', name, 'expect'], message: err.message });
    }
  }

  const hb = isMap(raw.heartbeat) ? raw.heartbeat : undefined;
  if (hb && hb.url !== undefined && hb.url_env !== undefined)
    problems.push({ path: ['heartbeat', 'url_env'], message: 'set url or url_env, not both' });
  return problems;
}
