/**
 * Maintenance windows: a task may only start inside allowed local hours and weekdays.
 * `hours: "1-5,22-23"` (each number is a whole hour, so 1-5 means 01:00 to 05:59),
 * `days: "mon-fri"` or `"sat,sun"`. Pure functions; the zone is a parameter.
 */
import { localParts } from './local-time.js';

export interface Window {
  readonly hours: readonly boolean[] | null; // 24 entries, null = any hour
  readonly days: readonly boolean[] | null; // 7 entries from Sunday, null = any day
  readonly timezone: string;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export class WindowSyntaxError extends Error {
  override name = 'WindowSyntaxError';
}

function parseList(text: string, size: number, read: (token: string) => number, what: string): boolean[] {
  const allowed = new Array<boolean>(size).fill(false);
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') throw new WindowSyntaxError(`"${text}": empty item in the ${what} list`);
    const [a, b, extra] = item.split('-').map((s) => s.trim());
    if (extra !== undefined) throw new WindowSyntaxError(`"${item}" is not a ${what} or a range of them`);
    const from = read(a!);
    const to = b === undefined ? from : read(b);
    // A range may wrap: "22-2" is 22, 23, 0, 1, 2 and "fri-mon" is Friday to Monday.
    for (let i = from; ; i = (i + 1) % size) {
      allowed[i] = true;
      if (i === to) break;
    }
  }
  return allowed;
}

export function parseHours(text: string): boolean[] {
  return parseList(
    text,
    24,
    (token) => {
      if (!/^\d{1,2}$/.test(token) || Number(token) > 23) {
        throw new WindowSyntaxError(`"${token}" is not an hour; expected 0-23, e.g. hours: "1-5,22-23"`);
      }
      return Number(token);
    },
    'hour',
  );
}

export function parseDays(text: string): boolean[] {
  return parseList(
    text,
    7,
    (token) => {
      const i = DAY_NAMES.indexOf(token.toLowerCase().slice(0, 3));
      if (i < 0 || (token.length > 3 && !/^[a-z]+day$/i.test(token))) {
        throw new WindowSyntaxError(
          `"${token}" is not a weekday; expected mon, tue, wed, thu, fri, sat or sun, e.g. days: "mon-fri"`,
        );
      }
      return i;
    },
    'weekday',
  );
}

export function isInside(t: number, w: Window): boolean {
  if (!w.hours && !w.days) return true;
  const p = localParts(t, w.timezone);
  return (w.hours?.[p.hour] ?? true) && (w.days?.[p.weekday] ?? true);
}

/** The earliest instant at or after `t` that lies inside the window. */
export function nextInside(t: number, w: Window): number {
  if (isInside(t, w)) return t;
  let cursor = t;
  // Step to each following local hour boundary; 8 days of hours always reaches an allowed one.
  for (let i = 0; i < 24 * 8 + 2; i++) {
    const p = localParts(cursor, w.timezone);
    cursor = cursor - (p.minute * 60 + p.second) * 1_000 - (cursor % 1_000) + 3_600_000;
    if (isInside(cursor, w)) return cursor;
  }
  throw new Error('window allows no hour at all'); // prevented by validation at load
}
