import { describe, expect, it } from 'vitest';
import { countFires, firesAt, firesBetween, nextFire, parseSchedule } from '../../src/core/schedule.js';

const at = (iso: string) => Date.parse(iso);
const next = (expr: string, zone: string, after: string) =>
  new Date(nextFire(parseSchedule(expr, zone), at(after))!).toISOString();

describe('schedule: next fire', () => {
  it.each([
    // [expression, zone, after, expected next fire (UTC)]
    ['0 2 * * *', 'UTC', '2026-11-24T02:00:00Z', '2026-11-25T02:00:00.000Z'], // strictly after
    ['0 2 * * *', 'UTC', '2026-11-24T01:59:59Z', '2026-11-24T02:00:00.000Z'],
    ['*/15 * * * *', 'UTC', '2026-11-24T10:07:00Z', '2026-11-24T10:15:00.000Z'],
    ['30 */10 * * * *', 'UTC', '2026-11-24T10:00:31Z', '2026-11-24T10:10:30.000Z'], // 6 fields: seconds first
    ['@daily', 'UTC', '2026-11-24T10:00:00Z', '2026-11-25T00:00:00.000Z'],
    ['@hourly', 'UTC', '2026-11-24T10:00:00Z', '2026-11-24T11:00:00.000Z'],
    ['@weekly', 'UTC', '2026-11-24T10:00:00Z', '2026-11-29T00:00:00.000Z'], // Sunday
    ['@monthly', 'UTC', '2026-11-24T10:00:00Z', '2026-12-01T00:00:00.000Z'],
    ['0 0 L * *', 'UTC', '2026-02-01T00:00:00Z', '2026-02-28T00:00:00.000Z'], // last day of February
    ['0 0 L * *', 'UTC', '2028-02-01T00:00:00Z', '2028-02-29T00:00:00.000Z'], // leap year
    ['0 0 15W * *', 'UTC', '2026-08-01T00:00:00Z', '2026-08-14T00:00:00.000Z'], // 15th is a Saturday → Friday
    ['0 0 1W * *', 'UTC', '2026-07-31T00:00:00Z', '2026-08-03T00:00:00.000Z'], // 1st is a Saturday → Monday (stays in month)
    ['0 9 * * 5#2', 'UTC', '2026-11-01T00:00:00Z', '2026-11-13T09:00:00.000Z'], // second Friday
    ['0 9 * * 1L', 'UTC', '2026-11-01T00:00:00Z', '2026-11-30T09:00:00.000Z'], // last Monday
    ['0 0 1 * mon', 'UTC', '2026-11-24T00:00:00Z', '2026-11-30T00:00:00.000Z'], // Vixie: day-of-month OR weekday
    ['0 2 * * *', 'Europe/Berlin', '2026-11-24T00:00:00Z', '2026-11-24T01:00:00.000Z'], // 02:00 CET = 01:00 UTC
    ['0 2 * * *', 'Europe/Berlin', '2026-06-30T12:00:00Z', '2026-07-01T00:00:00.000Z'], // 02:00 CEST = 00:00 UTC
    ['every 6h', 'UTC', '2026-11-24T07:00:00Z', '2026-11-24T12:00:00.000Z'], // epoch-aligned grid
    ['every 90s', 'UTC', '2026-11-24T00:00:00Z', '2026-11-24T00:01:30.000Z'],
  ])('%s in %s after %s', (expr, zone, after, expected) => {
    expect(next(expr, zone, after)).toBe(expected);
  });
});

describe('schedule: daylight saving time', () => {
  // Europe/Berlin springs forward 2026-03-29 02:00 → 03:00 and falls back 2026-10-25 03:00 → 02:00.
  it('runs a fixed-time job whose local time is skipped right after the gap (Vixie cron)', () => {
    expect(next('30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z')).toBe('2026-03-29T01:00:00.000Z'); // 03:00 CEST
    expect(next('30 2 * * *', 'Europe/Berlin', '2026-03-29T01:00:00Z')).toBe('2026-03-30T00:30:00.000Z'); // back to 02:30 CEST
  });

  it('runs a fixed-time job once when its local time occurs twice', () => {
    const s = parseSchedule('30 2 * * *', 'Europe/Berlin');
    const fires = firesBetween(s, at('2026-10-24T12:00:00Z'), at('2026-10-26T12:00:00Z'), 10).map((t) =>
      new Date(t).toISOString(),
    );
    expect(fires).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('runs an interval job on both occurrences of a repeated hour and skips none in the gap', () => {
    const s = parseSchedule('0 * * * *', 'Europe/Berlin');
    const fall = firesBetween(s, at('2026-10-24T23:30:00Z'), at('2026-10-25T02:30:00Z'), 10).map((t) =>
      new Date(t).toISOString(),
    );
    expect(fall).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
    // Spring: local 02:00 does not exist; hourly fires stay one real hour apart.
    const spring = firesBetween(s, at('2026-03-28T23:30:00Z'), at('2026-03-29T02:30:00Z'), 10).map((t) =>
      new Date(t).toISOString(),
    );
    expect(spring).toEqual([
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
    ]);
  });

  it('handles America/New_York, which changes at 02:00 local on different dates', () => {
    expect(next('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z')).toBe('2026-03-08T07:00:00.000Z'); // 03:00 EDT after the gap
    expect(next('0 12 * * *', 'America/New_York', '2026-11-01T00:00:00Z')).toBe('2026-11-01T17:00:00.000Z'); // EST, UTC-5
  });
});

describe('schedule: counting and matching', () => {
  it('counts fires in a range and knows whether a schedule fires at an instant', () => {
    const hourly = parseSchedule('0 * * * *', 'UTC');
    expect(countFires(hourly, at('2026-11-24T00:00:00Z'), at('2026-11-24T05:30:00Z'), 100)).toBe(5);
    expect(
      countFires(
        parseSchedule('every 1h', 'UTC'),
        at('2026-11-24T00:00:00Z'),
        at('2026-11-24T05:30:00Z'),
        100,
      ),
    ).toBe(5);
    expect(firesAt(hourly, at('2026-11-24T03:00:00Z'))).toBe(true);
    expect(firesAt(hourly, at('2026-11-24T03:00:01Z'))).toBe(false);
  });
});

describe('schedule: invalid expressions', () => {
  it.each([
    ['0 0 0 * * * 2027', /has 7 fields; expected a cron expression of 5 fields/],
    ['0 0 *', /has 3 fields/],
    ['61 * * * *', /not a valid cron expression: Invalid value for minute: 61/],
    ['0 0 30 2 *', /never fires/],
    ['@reboot', /@reboot has no equivalent/],
    ['@fortnightly', /unknown nickname/],
    ['every soon', /after "every" expected a duration/],
    ['every 500ms', /at least 1s/],
  ])('%s', (expr, message) => {
    expect(() => parseSchedule(expr, 'UTC')).toThrow(message);
  });
});
